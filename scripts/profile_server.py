"""Profile the soni server under load and write `reports/profile.md`.

Starts `soni serve` (the banking example, SQLite state), attaches `soni-audit profile --pid`
(py-spy, 1000 Hz) for the length of the load, drives it with concurrent conversations over
HTTP, then stops the server. Needs ptrace (see `soni-audit profile --help`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

from harness.servers import Server

TURNS = ("hello", "I want to transfer money", "100", "to Ann", "yes", "check my balance")


async def _user(client: httpx.AsyncClient, url: str, name: str, until: float) -> int:
    turns = 0
    while time.monotonic() < until:
        for text in TURNS:
            response = await client.post(url + "/chat", json={"user_id": name, "message": text})
            response.raise_for_status()
            turns += 1
    return turns


async def load(url: str, users: int, seconds: float) -> int:
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=users)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        done = await asyncio.gather(*(_user(client, url, f"u{i}", until) for i in range(users)))
    return sum(done)


async def profile(args: argparse.Namespace, workdir: Path) -> int:
    """Serve, profile for the length of the load, stop; the profiler's exit status."""
    # no authentication: the runtime's profile, not the authentication's
    server = Server(workdir, extra=("--insecure-no-auth",))
    await server.start()
    try:
        profiler = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "audit", "profile", "--pid", str(server.pid)),
            *("--duration", str(args.seconds + 1), "--threshold-ms", str(args.threshold_ms)),
            *("--out", str(args.out), "--exit-zero"),
        )
        await asyncio.sleep(0.5)  # py-spy attaches
        turns = await load(server.url, args.users, args.seconds)
        print(f"profile_server: {turns} turns from {args.users} users", file=sys.stderr)
        async with asyncio.timeout(120):
            return await profiler.wait()
    finally:
        await server.stop(limit_s=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threshold-ms", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        return asyncio.run(profile(args, Path(workdir)))


if __name__ == "__main__":
    raise SystemExit(main())
