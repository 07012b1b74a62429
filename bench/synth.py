"""Synthetic Segment events for the benchmarks: a seeded shop with customers on many channels."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

EVENTS = [
    ("Product Viewed", "web"),
    ("Product Added", "web"),
    ("Checkout Started", "web"),
    ("Order Completed", "app"),
    ("Order Delivered", "delivery"),
    ("Email Opened", "email"),
    ("Chat Started", "chat"),
]
START = datetime(2026, 1, 1, tzinfo=UTC)


def events(n: int, customers: int, seed: int = 7, prefix: str = "m") -> Iterator[dict[str, Any]]:
    """``n`` track events of ``customers`` customers spread over a year, in time order-ish."""
    rng = random.Random(seed)
    step = 365 * 86400 / max(n, 1)
    for i in range(n):
        c = rng.randrange(customers)
        name, channel = EVENTS[rng.randrange(len(EVENTS))]
        moment = START + timedelta(seconds=i * step + rng.random())
        message: dict[str, Any] = {
            "type": "track",
            "event": name,
            "messageId": f"{prefix}-{i}",
            "anonymousId": f"anon-{c}",
            "timestamp": moment.isoformat(),
            "properties": {"sku": f"SKU-{rng.randrange(500)}", "price": rng.randrange(5, 500)},
            "context": {
                "channel": channel,
                "library": {"name": "analytics-python", "version": "2.4.0"},
                "ip": f"10.0.{c % 250}.{c % 199}",
                "locale": rng.choice(["vi-VN", "th-TH", "en-US"]),
            },
        }
        if c % 3:  # most customers are known by user id too
            message["userId"] = f"user-{c}"
        yield message
