"""The dashboard's kept figures (:mod:`cxloop.dashboard.memo`): one reading per question and
state, stale answers only within their age limit, failures kept by nobody."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from cxloop.core.time import utcnow
from cxloop.dashboard import memo


def question() -> tuple[str, str]:
    return ("test", uuid.uuid4().hex)


def test_a_question_asked_twice_at_once_is_read_once() -> None:
    q, started, release, calls = question(), threading.Event(), threading.Event(), []

    def slow() -> int:
        calls.append(1)
        started.set()
        release.wait(10)
        return 42

    answers: list[int] = []
    first = threading.Thread(target=lambda: answers.append(memo.recall(q, "s1", slow).value))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: answers.append(memo.recall(q, "s1", slow).value))
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert answers == [42, 42]
    assert len(calls) == 1
    assert memo.recall(q, "s1", lambda: 0).value == 42  # kept


def test_a_new_state_is_read_anew_without_a_stale_allowance() -> None:
    q = question()
    assert memo.recall(q, "s1", lambda: 1).value == 1
    kept = memo.recall(q, "s2", lambda: 2, refresh=lambda: 3, stale_seconds=0)
    assert (kept.value, kept.current) == (2, True)


def test_a_stale_answer_stands_in_while_the_newest_is_read() -> None:
    q = question()
    memo.recall(q, "s1", lambda: 1)
    kept = memo.recall(q, "s2", lambda: 2, refresh=lambda: 3, stale_seconds=60)
    assert (kept.value, kept.current, kept.state) == (1, False, "s1")
    memo.settle(10)
    kept = memo.recall(q, "s2", lambda: 2)
    assert (kept.value, kept.current) == (3, True)


def test_a_stale_answer_past_its_age_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    q = question()
    memo.recall(q, "s1", lambda: 1)
    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(memo, "utcnow", lambda: later)
    kept = memo.recall(q, "s2", lambda: 2, refresh=lambda: 3, stale_seconds=60)
    assert (kept.value, kept.current) == (2, True)


def test_a_failed_reading_is_kept_by_nobody() -> None:
    q = question()

    def broken() -> int:
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        memo.recall(q, "s1", broken)
    assert memo.recall(q, "s1", lambda: 5).value == 5
    # in the background: the stale answer stays, the next view tries again
    kept = memo.recall(q, "s2", lambda: 6, refresh=broken, stale_seconds=60)
    assert kept.value == 5
    memo.settle(10)
    kept = memo.recall(q, "s2", lambda: 6, refresh=lambda: 7, stale_seconds=60)
    assert (kept.value, kept.current) == (5, False)
    memo.settle(10)
    assert memo.recall(q, "s2", lambda: 0).value == 7
