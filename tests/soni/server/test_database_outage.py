"""`/ready` through a PostgreSQL stop and start: 503 while the database is unreachable, 200
again by itself once it is back, and the conversation goes on where it was. The test runs
its own PostgreSQL (the system's binaries, as root through `runuser`), which it may stop."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.servers import free_port
from tests.soni.server.conftest import Served, launch, use_postgres
from tests.soni.server.test_lifecycle import CLEAN_EXIT


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


BIN = _postgres_bin()
RUNUSER = shutil.which("runuser")
pytestmark = pytest.mark.skipif(
    BIN is None or RUNUSER is None or os.geteuid() != 0,
    reason="needs PostgreSQL's binaries and root to run them as postgres (.ci/run has both)",
)


def as_postgres(tool: str, *args: str, check: bool = True) -> None:
    """Run one of PostgreSQL's programs as the postgres user (they refuse to run as root)."""
    assert BIN is not None
    assert RUNUSER is not None
    command = [RUNUSER, "-u", "postgres", "--", str(BIN / tool), *args]
    subprocess.run(command, check=check, capture_output=True, timeout=120)


@dataclass
class PrivatePostgres:
    data: Path
    port: int

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        as_postgres(
            "pg_ctl",
            "-D",
            str(self.data / "db"),
            "-l",
            str(self.data / "log"),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        as_postgres(
            "pg_ctl", "-D", str(self.data / "db"), "-m", mode, "-w", "stop", check=mode == "fast"
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    data = Path(tempfile.mkdtemp(prefix="soni-pg-"))
    data.chmod(0o755)
    shutil.chown(data, "postgres")
    as_postgres("initdb", "-D", str(data / "db"), "-A", "trust", "-U", "postgres")
    server = PrivatePostgres(data, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(data, ignore_errors=True)


def _wait_for(served: Served, status: int, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        ready = httpx.get(served.url + "/ready", timeout=10)
        if ready.status_code == status or time.monotonic() > deadline:
            return ready
        time.sleep(0.2)


def test_ready_follows_the_database_and_recovers_by_itself(
    private_postgres: PrivatePostgres, domain_copy: Path, tmp_path: Path
) -> None:
    config = use_postgres(domain_copy, private_postgres.dsn)
    args = [
        "-m",
        "soni",
        "serve",
        "--config",
        str(config),
        "--port",
        "{port}",
        "--insecure-no-auth",
    ]
    served = launch(args, tmp_path / "server.log")
    try:
        served.wait_ready()
        body = {"user_id": "ida", "message": "send money"}
        assert httpx.post(served.url + "/chat", json=body, timeout=10).json()["turn"] == 1

        private_postgres.stop()
        down = _wait_for(served, 503, within=15)
        assert down.status_code == 503
        assert down.json()["error"]["type"] == "not_ready"
        assert "database" in down.json()["error"]["details"]
        assert httpx.get(served.url + "/health", timeout=10).status_code == 503

        private_postgres.start()
        up = _wait_for(served, 200, within=30)
        assert up.status_code == 200, up.text
        again = httpx.post(served.url + "/chat", json={**body, "message": "Bob"}, timeout=10)
        assert again.status_code == 200
        assert again.json()["turn"] == 2
    finally:
        assert served.stop() in CLEAN_EXIT
