"""Servers under test, each a child process on 127.0.0.1: `soni serve`, or the bare
FastAPI floor (`scripts/floor_app.py`) on the same uvicorn."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from harness import REPO
from soni.examples.banking import DOMAIN


def free_port() -> int:
    """A port on 127.0.0.1 free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """`soni serve` in a child process; `workdir/state.db` survives restarts. `floor` makes
    the bare endpoint instead."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    floor: bool = False
    extra: tuple[str, ...] = ()
    """More `soni serve` flags."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    """The service token the server requires (SONI_AUTH_TOKEN) and the clients send."""
    config: Path | None = None
    """A domain of its own, whose persistence settings apply (replicas on PostgreSQL);
    without it, the banking example on `workdir/state.db`."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _command(self) -> list[str]:
        quiet = ("--no-access-log", "--log-level", "warning", "--port", str(self.port))
        if self.floor:
            return [
                *(sys.executable, "-m", "uvicorn", "--factory", "floor_app:create"),
                *("--app-dir", str(REPO / "scripts"), "--timeout-keep-alive", "75", *quiet),
            ]
        domain = ("--config", str(self.config or DOMAIN))
        state = () if self.config else ("--state", str(self.workdir / "state.db"))
        return [sys.executable, "-m", "soni", "serve", *domain, *state, *quiet, *self.extra]

    async def start(self, limit_s: float = 60.0) -> None:
        """Start it, logging to `workdir/server.log`, and wait until it answers."""
        command = self._command()
        env = {
            **os.environ,
            "SONI_BANKING_DB": str(self.workdir / "bank.db"),
            "FLOOR_DB": str(self.workdir / "floor.db"),
            "SONI_AUTH_TOKEN": self.token,
        }
        log = await asyncio.to_thread(open, self.workdir / "server.log", "ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=log, stderr=log
            )
        finally:
            await asyncio.to_thread(log.close)
        async with asyncio.timeout(limit_s), httpx.AsyncClient(base_url=self.url) as client:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"the server exited with {self.process.returncode}")
                try:
                    probe = "/openapi.json" if self.floor else "/ready"
                    if (await client.get(probe)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)

    def cpu_s(self) -> float:
        """CPU seconds the server has used, all its threads."""
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        return float(psutil.Process(self.pid).memory_info().rss) / 2**20

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no shutdown at all, as when a machine or container dies."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def stop(self, limit_s: float = 30.0) -> int:
        """SIGTERM, then the exit code (SIGKILL after `limit_s`: reported as -9)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(limit_s):
                return await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            return -9
