"""Per-key token buckets for the ingestion API (per process, no shared state needed)."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """Allows ``rate`` events per second per key, with bursts of ``burst`` events."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else rate * 2
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, amount: int) -> float:
        """0 when ``amount`` events may pass now, else the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            if amount <= tokens:
                self._buckets[key] = (tokens - amount, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            missing = min(amount, self.burst) - tokens
            return max(1.0, math.ceil(missing / self.rate))
