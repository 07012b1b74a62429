"""The metrics API end to end: responses recorded as events, figures read right after."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import event

from cxloop.analytics import stats
from cxloop.core.db import transaction
from cxloop.ingest import service as ingest
from cxloop.models import Scope
from tests.fixtures.factories import make_key, make_workspace
from tests.fixtures.ingest import Live

_ids = itertools.count()


def answer(
    response_id: str,
    *,
    user: str | None = None,
    anonymous: str | None = None,
    at: str = "2026-11-02T09:00:00Z",
    survey: str = "s1",
    touchpoint: str | None = "delivery",
    channel: str = "email",
    language: str = "vi",
    stage: str | None = "Purchase",
    complete: bool = True,
    answers: dict[str, Any] | None = None,
    **scores: int | None,
) -> dict[str, Any]:
    """A ``Survey Responded`` message as the surveys domain sends it."""
    properties = {
        "survey_id": survey,
        "survey_name": f"Survey {survey}",
        "survey_version": 1,
        "response_id": response_id,
        "touchpoint": touchpoint,
        "stage": stage,
        "language": language,
        "channel": channel,
        "source": "link",
        "is_complete": complete,
        "answers": answers or {},
        "nps": None,
        "csat": None,
        "ces": None,
        "rating": None,
        **scores,
    }
    message: dict[str, Any] = {
        "type": "track",
        "event": "Survey Responded",
        "messageId": f"msg-{next(_ids)}",
        "properties": properties,
        "timestamp": at,
        "context": {"channel": channel},
    }
    if user is not None:
        message["userId"] = user
    message["anonymousId"] = anonymous or f"anon-{response_id}"
    return message


def record(live: Live, *messages: dict[str, Any]) -> None:
    with transaction(live.factory) as session:
        ingest.record(session, live.workspace_id, list(messages))


def nps_answers(promoters: int, passives: int, detractors: int, **kw: Any) -> list[dict[str, Any]]:
    scores = [10] * promoters + [7] * passives + [2] * detractors
    return [answer(f"r-{next(_ids)}", nps=s, **kw) for s in scores]


def get(live: Live, path: str, **params: Any) -> Any:
    response = live.api(f"/api/v1/metrics/{path}", **params)
    assert response.status_code == 200, response.text
    return response.json()


def test_responses_just_recorded_count_once_each(live: Live) -> None:
    record(live, *nps_answers(20, 10, 10))
    record(
        live,
        answer("edited", nps=1, at="2026-11-02T08:00:00Z"),
        answer("edited", nps=9, at="2026-11-02T08:30:00Z"),
    )
    # no load: the API waits until the inbox is in the event store
    body = get(live, "nps", survey_id="s1")
    assert body["n"] == 41
    assert (body["promoters"], body["passives"], body["detractors"]) == (21, 10, 10)
    assert body["nps"] == pytest.approx(100 * 11 / 41)
    low, high = stats.nps_interval(21, 10, 41)
    assert (body["ci_low"], body["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert body["small_sample"] is False
    assert body["distribution"]["9"] == 1
    assert "groups" not in body
    assert "trend" not in body
    assert get(live, "nps", survey_id="other")["n"] == 0


def test_breakdown_trend_and_filters(live: Live) -> None:
    record(
        live,
        *nps_answers(5, 0, 1, touchpoint="checkout", at="2026-11-02T09:00:00Z"),
        *nps_answers(1, 0, 3, touchpoint="support", channel="chat", at="2026-11-04T20:00:00Z"),
        *nps_answers(2, 0, 0, touchpoint=None, language="th", at="2026-11-04T09:00:00Z"),
    )
    body = get(live, "nps", by="touchpoint", interval="day", min_n=5)
    assert [(g["key"], g["n"], g["small_sample"]) for g in body["groups"]] == [
        ("checkout", 6, False),
        ("support", 4, True),
        ("(none)", 2, True),
    ]
    assert body["groups"][0]["nps"] == pytest.approx(100 * 4 / 6)
    assert [(t["period"], t["n"]) for t in body["trend"]] == [
        ("2026-11-02", 6),
        ("2026-11-03", 0),
        ("2026-11-04", 6),
    ]
    bangkok = get(live, "nps", interval="day", tz="Asia/Bangkok")
    assert [(t["period"], t["n"]) for t in bangkok["trend"]][-1] == ("2026-11-05", 4)
    assert get(live, "nps", channel="chat")["n"] == 4
    assert get(live, "nps", language=["th", "en"])["n"] == 2
    window = get(live, "nps", **{"from": "2026-11-03", "to": "2026-11-05T00:00:00+07:00"})
    assert window["n"] == 2  # naive times are read in tz (UTC); 20:00Z is past 00:00+07
    by_channel = get(live, "nps", by="channel")
    assert {g["key"]: g["n"] for g in by_channel["groups"]} == {"email": 8, "chat": 4}


def test_csat_and_ces(live: Live) -> None:
    record(
        live,
        *(answer(f"c{i}", csat=s, ces=c) for i, (s, c) in enumerate([(5, 7), (4, 6), (2, 2)])),
        answer("q", answers={"effort": 5}),
    )
    csat = get(live, "csat")
    assert (csat["n"], csat["satisfied"]) == (3, 2)
    assert csat["csat"] == pytest.approx(200 / 3)
    assert csat["mean"] == pytest.approx(11 / 3)
    assert csat["small_sample"] is True
    assert csat["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    ces = get(live, "ces")
    assert ces["ces"] == pytest.approx(5.0)
    assert (ces["easy"], ces["easy_pct"]) == (2, pytest.approx(200 / 3))
    assert ces["ci_low"] < 5 < ces["ci_high"]
    assert get(live, "ces", question_id="effort")["n"] == 1


def test_a_trait_breakdown_counts_a_merged_customer_once(live: Live) -> None:
    live.send("/v1/identify", {"userId": "u1", "traits": {"plan": "gold"}})
    live.send("/v1/identify", {"userId": "u2", "traits": {"plan": "silver"}})
    live.load()
    record(live, answer("before", anonymous="anon-9", nps=10, at="2026-11-01T09:00:00Z"))
    live.load()
    live.send("/v1/identify", {"userId": "u1", "anonymousId": "anon-9"})  # the same person
    live.load()
    record(
        live,
        answer("after", user="u1", nps=3, at="2026-11-02T09:00:00Z"),
        answer("other", user="u2", nps=9),
        answer("stranger", anonymous="anon-x", nps=8),
    )
    body = get(live, "nps", by="trait.plan", min_n=1)
    assert {g["key"]: g["n"] for g in body["groups"]} == {"gold": 2, "silver": 1, "(none)": 1}
    once = get(live, "nps", by="trait.plan", per_customer="true")
    gold = next(g for g in once["groups"] if g["key"] == "gold")
    assert (gold["n"], gold["detractors"]) == (1, 1)  # the customer's latest answer
    assert once["n"] == 3


def test_compare_two_groups_and_two_periods(live: Live) -> None:
    record(
        live,
        *nps_answers(30, 5, 5, touchpoint="checkout", at="2026-10-10T09:00:00Z"),
        *nps_answers(5, 5, 30, touchpoint="support", at="2026-11-10T09:00:00Z"),
    )
    body = get(live, "nps/compare", by="touchpoint", a="checkout", b="support")
    assert body["a"]["label"] == "checkout"
    assert body["a"]["n"] == body["b"]["n"] == 40
    assert body["difference"] == pytest.approx(-125.0 + 62.5 - 62.5)  # -62.5 - 62.5
    assert body["significant"] is True
    assert body["refused"] is False
    assert body["p_value"] < 0.001
    assert body["secondary"] == []
    periods = {
        "a.from": "2026-10-01T00:00:00Z",
        "a.to": "2026-11-01T00:00:00Z",
        "b.from": "2026-11-01T00:00:00Z",
        "b.to": "2026-12-01T00:00:00Z",
    }
    by_month = get(live, "nps/compare", **periods)
    assert by_month["difference"] == pytest.approx(body["difference"])
    assert by_month["a"]["from"].startswith("2026-10-01")
    only_b = get(live, "nps/compare", **{"b.from": periods["b.from"], "b.to": periods["b.to"]})
    assert only_b["a"]["to"] == only_b["b"]["from"]  # a: the month before
    assert only_b["a"]["n"] == 40
    small = get(live, "csat/compare", by="touchpoint", a="checkout", b="support")
    assert small["refused"] is True
    assert small["significant"] is None
    assert small["reason"] == "a has 0 and b has 0 answers; each side needs at least 30"
    assert [d["measure"] for d in small["secondary"]] == ["mean"]
    default = get(live, "ces/compare")  # the last 30 days against the 30 before
    assert default["refused"] is True


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("nps", {"by": "colour"}, "by"),
        ("nps", {"by": "trait."}, "by"),
        ("nps", {"from": "last tuesday"}, "from"),
        ("nps", {"from": "2026-11-05", "to": "2026-11-01"}, "to"),
        ("csat", {"interval": "year"}, "interval"),
        ("ces", {"tz": "Mars/Olympus"}, "tz"),
        ("nps", {"question_id": "a b"}, "question_id"),
        ("nps", {"min_n": "0"}, "min_n"),
        ("nps", {"colour": "red"}, "colour"),
        ("nps/compare", {"a": "x", "b": "y"}, "a"),
        ("nps/compare", {"by": "touchpoint", "a": "x"}, "b"),
        ("nps/compare", {"by": "touchpoint", "a": "x", "b": "x"}, "b"),
        ("nps/compare", {"a.from": "2026-10-01T00:00:00Z"}, "a.to"),
        ("nps/compare", {"from": "2026-10-01T00:00:00Z"}, "from"),
        (
            "nps/compare",
            {
                "a.from": "2026-10-01T00:00:00Z",
                "a.to": "2026-11-02T00:00:00Z",
                "b.from": "2026-11-01T00:00:00Z",
                "b.to": "2026-12-01T00:00:00Z",
            },
            "b.from",
        ),
    ],
)
def test_bad_parameters_are_named(
    live: Live, path: str, params: dict[str, str], field: str
) -> None:
    response = live.api(f"/api/v1/metrics/{path}", **params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert any(field in error["loc"] for error in body["errors"]), body
    assert field in body["detail"]


def test_nothing_answered_yet_is_not_an_error(live: Live) -> None:
    body = get(live, "nps", by="touchpoint", interval="week")
    assert body["n"] == 0
    assert body["nps"] is None
    assert body["ci_low"] is None
    assert body["small_sample"] is True
    assert body["groups"] == []
    assert body["trend"] == []
    for path in ("csat", "ces", "csat/compare"):
        assert get(live, path)["n" if "/" not in path else "refused"] in (0, True)


def test_another_workspace_sees_none_of_it(live: Live) -> None:
    record(live, *nps_answers(3, 0, 0))
    with transaction(live.factory) as session:
        other = make_workspace(session, "elsewhere")
        _, token = make_key(session, other, Scope.READ)
    response = live.client.get("/api/v1/metrics/nps", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["n"] == 0
    assert get(live, "nps")["n"] == 3
    write = live.client.get(
        "/api/v1/metrics/nps", headers={"Authorization": f"Bearer {live.write_key}"}
    )
    assert write.status_code == 403


def test_queries_do_not_grow_with_responses(live: Live) -> None:
    engine = live.client.app.state.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    def run() -> int:
        live.load()
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            get(live, "nps", by="trait.plan", interval="day")
            get(live, "csat/compare", by="trait.plan", a="gold", b="(none)")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    record(live, *nps_answers(2, 1, 1))
    run()  # the key's first use writes last_used_at
    few = run()
    record(live, *nps_answers(20, 10, 10, at="2026-11-09T09:00:00Z"))
    assert run() == few
    assert few <= 20
    if engine.dialect.name == "sqlite":  # figures are computed without the write lock
        reading = statements.index(next(s for s in statements if "FROM event_file" in s))
        begun = [s for s in statements[:reading] if s.startswith("BEGIN")]
        assert begun[-1] == "BEGIN"
