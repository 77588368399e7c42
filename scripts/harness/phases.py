"""Load phases, each bounded in time, and the latency figures they yield."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

_T = TypeVar("_T")


async def phase(name: str, work: Awaitable[_T], limit_s: float) -> _T:
    """Run one phase, named on stderr, within `limit_s` seconds: a benchmark never hangs."""
    print(f"-- {name}", file=sys.stderr, flush=True)
    async with asyncio.timeout(limit_s):
        return await work


def quantile_ms(ordered: Sequence[float], q: float) -> float:
    """The `q` quantile (nearest rank below) of sorted seconds, in ms; 0 without samples."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class Latency:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms: float
    """Server CPU (all its threads) per answered request."""
    client_cpu_ms: float
    """The load generator's CPU per answered request: it shares the machine."""

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @classmethod
    def of(
        cls,
        samples: Sequence[float],
        errors: int,
        seconds: float,
        *,
        server_cpu_ms: float,
        client_cpu_ms: float,
    ) -> Latency:
        """The figures of answers that took `samples` seconds each."""
        ordered = sorted(samples)
        return cls(
            len(samples),
            errors,
            seconds,
            quantile_ms(ordered, 0.50),
            quantile_ms(ordered, 0.95),
            quantile_ms(ordered, 0.99),
            quantile_ms(ordered, 1.0),
            server_cpu_ms,
            client_cpu_ms,
        )
