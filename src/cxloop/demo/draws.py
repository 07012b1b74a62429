"""Random draws for the simulator's per-customer steps.

numpy's generator is fast for arrays but slow one number at a time; the simulator walks
each customer through a year one decision after another, so it takes its numbers from
blocks drawn ahead. Given the same seed and the same calls, the numbers are the same.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

import numpy as np

_BLOCK = 1 << 16


class Stream:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._uniform: list[float] = []
        self._normal: list[float] = []

    def uniform(self) -> float:
        """A number in [0, 1)."""
        if not self._uniform:
            self._uniform = self.rng.random(_BLOCK).tolist()
        return self._uniform.pop()

    def normal(self) -> float:
        if not self._normal:
            self._normal = self.rng.standard_normal(_BLOCK).tolist()
        return self._normal.pop()

    def chance(self, probability: float) -> bool:
        return self.uniform() < probability

    def integer(self, n: int) -> int:
        """One of 0 .. n-1."""
        return min(n - 1, int(self.uniform() * n))

    def exp(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.uniform())

    def poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        if mean > 30:
            return int(self.rng.poisson(mean))
        # Knuth: multiply uniforms until the product falls below e^-mean
        limit, count, product = math.exp(-mean), 0, self.uniform()
        while product > limit:
            count += 1
            product *= self.uniform()
        return count

    def weighted(self, cumulative: Sequence[float]) -> int:
        """An index drawn with the weights whose running sums are ``cumulative``."""
        return min(len(cumulative) - 1, bisect_right(cumulative, self.uniform() * cumulative[-1]))


def cumulative(weights: Sequence[float]) -> list[float]:
    return list(accumulate(weights))
