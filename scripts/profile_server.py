"""Profile the soni server under load and write `reports/profile.md`.

Starts `soni serve` (the banking example, SQLite state), attaches `soni-audit profile --pid`
(py-spy, 1000 Hz) for the length of the load, drives it with concurrent conversations over
HTTP, then stops the server. Needs ptrace (see `soni-audit profile --help`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from soni.examples.banking import DOMAIN

TURNS = ("hello", "I want to transfer money", "100", "to Ann", "yes", "check my balance")


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(url + "/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the server did not become ready")


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threshold-ms", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    port = _port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "soni",
                "serve",
                "--config",
                str(DOMAIN),
                "--port",
                str(port),
                "--state",
                str(Path(workdir) / "state.db"),
                "--no-access-log",
                "--log-level",
                "warning",
                "--insecure-no-auth",  # the runtime's profile, not the authentication's
            ],
        )
        try:
            asyncio.run(_ready(url))
            profiler = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "audit",
                    "profile",
                    "--pid",
                    str(server.pid),
                    "--duration",
                    str(args.seconds + 1),
                    "--threshold-ms",
                    str(args.threshold_ms),
                    "--out",
                    str(args.out),
                    "--exit-zero",
                ],
            )
            time.sleep(0.5)  # py-spy attaches
            turns = asyncio.run(load(url, args.users, args.seconds))
            print(f"profile_server: {turns} turns from {args.users} users", file=sys.stderr)
            status = profiler.wait(timeout=120)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
