"""Who is acting: recorded in the audit log next to what they did."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """``kind`` is one of ``user``, ``api_key``, ``cli``, ``system``."""

    kind: str
    id: str
    ip: str = ""
    user_agent: str = ""

    @classmethod
    def cli(cls, who: str) -> Actor:
        return cls(kind="cli", id=who)

    @classmethod
    def system(cls) -> Actor:
        return cls(kind="system", id="cxloop")
