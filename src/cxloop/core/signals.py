"""In-process signals: a lower domain announces that something happened; higher ones listen.

A receiver runs synchronously inside the sender's transaction, so what it writes commits or
rolls back with the change that caused it. Slow work belongs in a job that the receiver enqueues.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Receiver = Callable[..., None]


class Signal:
    """A named event, e.g. ``Signal("accounts.workspace_created")``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Receiver] = []

    def connect(self, receiver: Receiver) -> Receiver:
        """Register ``receiver``; usable as a decorator. Connecting twice is a no-op."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Receiver) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Receiver, ...]:
        return tuple(self._receivers)

    def send(self, **payload: Any) -> None:
        """Call every receiver with ``payload``; a failing receiver fails the sender."""
        for receiver in list(self._receivers):
            log.debug("signal %s -> %s", self.name, getattr(receiver, "__qualname__", receiver))
            receiver(**payload)

    def __repr__(self) -> str:
        return f"Signal({self.name!r})"


_registry: dict[str, Signal] = {}


def signal(name: str) -> Signal:
    """The signal called ``name`` (created on first use), so both sides can share it by name."""
    if name not in _registry:
        _registry[name] = Signal(name)
    return _registry[name]
