from typing import Any

import pytest

from cxloop.core.signals import Signal, signal


def test_receivers_get_the_payload_in_order() -> None:
    seen: list[tuple[str, Any]] = []
    sig = Signal("tests.thing_happened")
    sig.connect(lambda **kw: seen.append(("first", kw["value"])))
    sig.connect(lambda **kw: seen.append(("second", kw["value"])))
    sig.send(value=42)
    assert seen == [("first", 42), ("second", 42)]


def test_signals_are_shared_by_name_and_connect_is_idempotent() -> None:
    calls: list[int] = []

    def receiver(**_: Any) -> None:
        calls.append(1)

    a = signal("tests.shared_signal")
    assert signal("tests.shared_signal") is a
    a.connect(receiver)
    a.connect(receiver)
    a.send()
    assert calls == [1]
    a.disconnect(receiver)
    a.send()
    assert calls == [1]


def test_a_failing_receiver_fails_the_sender() -> None:
    sig = Signal("tests.failing")

    def boom(**_: Any) -> None:
        raise RuntimeError("receiver failed")

    sig.connect(boom)
    with pytest.raises(RuntimeError, match="receiver failed"):
        sig.send()
