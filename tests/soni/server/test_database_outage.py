"""`/ready` through a PostgreSQL stop and start: 503 while the database is unreachable, 200
again by itself once it is back, and the conversation goes on where it was. The test runs
its own PostgreSQL (the system's binaries, as root through `runuser`), which it may stop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.postgres import ThrowawayPostgres, started, why_not_startable
from tests.soni.server.conftest import Served, launch, use_postgres
from tests.soni.server.test_lifecycle import CLEAN_EXIT

pytestmark = pytest.mark.skipif(
    why_not_startable() is not None, reason=f"needs its own PostgreSQL: {why_not_startable()}"
)


@pytest.fixture
def private_postgres() -> Iterator[ThrowawayPostgres]:
    """A server of this test's own, which it may stop and start."""
    server = started()
    try:
        yield server
    finally:
        server.remove()


def _wait_for(served: Served, status: int, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        ready = httpx.get(served.url + "/ready", timeout=10)
        if ready.status_code == status or time.monotonic() > deadline:
            return ready
        time.sleep(0.2)


def test_ready_follows_the_database_and_recovers_by_itself(
    private_postgres: ThrowawayPostgres, domain_copy: Path, tmp_path: Path
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
