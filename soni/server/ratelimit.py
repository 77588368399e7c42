"""Token buckets by key (a user id, a client address): `burst` requests at once, then
`per_second` on average. A refused request costs a dictionary lookup, so a flood from one
key is turned away before it reaches the runtime and the others do not wait behind it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from soni.config.server import Bucket

PRUNE_EVERY = 4096
"""Drop the buckets that have refilled (their keys went quiet) once per this many checks."""


@dataclass
class _Level:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, bucket: Bucket, clock: Callable[[], float] = time.monotonic) -> None:
        self.bucket = bucket
        self._clock = clock
        self._levels: dict[str, _Level] = {}
        self._checks = 0

    def wait_s(self, key: str) -> float:
        """Take a token for `key`: 0.0 if there was one, else the seconds until there is."""
        now = self._clock()
        self._checks += 1
        if self._checks % PRUNE_EVERY == 0:
            self._prune(now)
        level = self._levels.get(key)
        if level is None:
            self._levels[key] = _Level(self.bucket.burst - 1.0, now)
            return 0.0
        level.tokens = min(
            float(self.bucket.burst), level.tokens + (now - level.at) * self.bucket.per_second
        )
        level.at = now
        if level.tokens >= 1.0:
            level.tokens -= 1.0
            return 0.0
        return (1.0 - level.tokens) / self.bucket.per_second

    def _prune(self, now: float) -> None:
        full_after = self.bucket.burst / self.bucket.per_second
        self._levels = {k: v for k, v in self._levels.items() if now - v.at < full_after}

    def __len__(self) -> int:
        return len(self._levels)


def retry_after(wait_s: float) -> str:
    """The `Retry-After` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_s)))
