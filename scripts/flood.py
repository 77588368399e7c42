"""A flood from one user against the others' latency, over HTTP on 127.0.0.1.

Starts `soni serve` (the banking example, a service token, a per-user rate limit) and
measures one ordinary user's latency twice: alone, then while another user sends at ten
times its limit. The limit must turn the flood away cheaply enough that the ordinary user's
p95 stays within 1.5x of its unloaded p95. Prints the figures; --output writes the report.

    python scripts/flood.py --output reports/rate-limits.md
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.conversation import message
from harness.phases import quantile_ms
from harness.report import command, publish
from harness.servers import Server

RATE, BURST = 5.0, 10
"""The per-user limit: 5 requests per second, 10 at once."""
FLOOD_FACTOR = 10
TARGET = 1.5


@dataclass(frozen=True)
class Pace:
    sent: int
    codes: Counter[int]
    p50_ms: float
    p95_ms: float


async def _paced(client: httpx.AsyncClient, user: str, per_second: float, seconds: float) -> Pace:
    """`per_second` requests, each on its own schedule (open loop: a slow reply does not
    slow the sender), for `seconds`."""
    latencies: list[float] = []
    codes: Counter[int] = Counter()

    async def one(n: int) -> None:
        began = time.perf_counter()
        reply = await client.post(
            "/chat", json={"user_id": user, "message": message(n)}
        )
        codes[reply.status_code] += 1
        if reply.status_code == 200:
            latencies.append(time.perf_counter() - began)

    tasks = []
    start = time.perf_counter()
    for n in range(int(per_second * seconds)):
        await asyncio.sleep(max(0.0, start + n / per_second - time.perf_counter()))
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    ordered = sorted(latencies)
    return Pace(len(tasks), codes, quantile_ms(ordered, 0.5), quantile_ms(ordered, 0.95))


@dataclass(frozen=True)
class Flood:
    alone: Pace
    loaded: Pace
    flood: Pace
    seconds: float

    @property
    def ratio(self) -> float:
        return self.loaded.p95_ms / max(self.alone.p95_ms, 1e-9)

    @property
    def met(self) -> bool:
        return self.ratio <= TARGET and self.loaded.codes[200] == self.loaded.sent


async def run(seconds: float, workdir: Path) -> Flood:
    server = Server(workdir, extra=("--rate-limit-user", f"{RATE:g}:{BURST}"))
    await server.start()
    headers = server.headers
    limits = httpx.Limits(max_connections=200)
    try:
        async with (
            httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as victim,
            httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits) as flooder,
        ):
            ordinary = RATE * 0.8
            await _paced(victim, "ordinary", ordinary, 2)  # warm-up
            alone = await _paced(victim, "ordinary", ordinary, seconds)
            flood_task = asyncio.create_task(
                _paced(flooder, "flooder", RATE * FLOOD_FACTOR, seconds)
            )
            loaded = await _paced(victim, "ordinary", ordinary, seconds)
            flood = await flood_task
    finally:
        await server.stop()
    return Flood(alone, loaded, flood, seconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--output", type=Path, help="write the markdown report here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soni-flood-") as scratch:
        figures = asyncio.run(run(args.seconds, Path(scratch)))
    publish(
        "rate-limits.md.j2",
        args.output,
        f=figures,
        rate=RATE,
        burst=BURST,
        factor=FLOOD_FACTOR,
        target=TARGET,
        command=command("scripts/flood.py", sys.argv[1:]),
    )
    return 0 if figures.met else 1


if __name__ == "__main__":
    raise SystemExit(main())
