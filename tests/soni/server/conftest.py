"""Real servers for the server tests: `soni serve` (or uvicorn with an app factory) in a child
process on a free 127.0.0.1 port, its log kept for assertions."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.servers import free_port
from tests.soni.conftest import DOMAIN

STARTUP_LIMIT_S = 60.0


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def logged(self, pattern: str, since: int = 0, limit_s: float = 10.0) -> str:
        """The log from offset `since` once `pattern` (a regular expression) is in it: a
        running server writes its lines from a thread, moments after what they record."""
        deadline = time.monotonic() + limit_s
        while not re.search(pattern, self.log()[since:]) and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.log()[since:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready in {STARTUP_LIMIT_S} s:\n{self.log()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"server did not stop on SIGTERM:\n{self.log()}") from None


def launch(args: list[str], log_path: Path, env: dict[str, str] | None = None) -> Served:
    """Start `python -m ...args` with `{port}` in args replaced by a free port. App
    factories run without authentication unless `env` sets SONI_INSECURE_NO_AUTH to "0"."""
    port = free_port()
    command = [sys.executable, *(arg.replace("{port}", str(port)) for arg in args)]
    environment = {
        **os.environ,
        "PYTHONWARNINGS": "always",
        "SONI_INSECURE_NO_AUTH": "1",
        **(env or {}),
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=Path.cwd()
        )
    return Served(process, port, log_path)


def serve_args(config: Path, state: Path, *extra: str, secure: bool = False) -> list[str]:
    """`soni serve` arguments; without authentication unless `secure`."""
    return [
        *("-m", "soni", "serve", "--config", str(config), "--state", str(state)),
        *("--port", "{port}", *extra, *(() if secure else ("--insecure-no-auth",))),
    ]


PERSISTENCE = re.compile(r"persistence: \{[^}]*\}")


def use_postgres(domain: Path, dsn: str) -> Path:
    """Point a copied domain's conversations at PostgreSQL (whatever its persistence line
    said); its domain.yaml."""
    config = domain / "domain.yaml"
    postgres = f"persistence: {{backend: postgres, dsn: '{dsn}'}}"
    text, replaced = PERSISTENCE.subn(postgres, config.read_text())
    assert replaced == 1
    config.write_text(text)
    return config


def factory_args(factory: str) -> list[str]:
    return ["-m", "uvicorn", "--factory", factory, "--port", "{port}", "--lifespan", "on"]


@pytest.fixture
def domain_copy(tmp_path: Path) -> Path:
    target = tmp_path / "domain"
    shutil.copytree(DOMAIN, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="module")
def test_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the request-level tests: the test domain, plus a command generator
    that raises on "crash" (an internal error nothing in the domain can cause)."""
    scratch = tmp_path_factory.mktemp("app")
    domain = scratch / "domain"
    shutil.copytree(DOMAIN, domain, ignore=shutil.ignore_patterns("__pycache__"))
    served = launch(
        factory_args("tests.soni.server.apps:crashing"),
        scratch / "server.log",
        {"SONI_CONFIG": str(domain / "domain.yaml")},
    )
    try:
        served.wait_ready()
        yield served
    finally:
        served.stop()
