"""A throwaway PostgreSQL for the tests marked `postgres`: started once per session, on the
first test that needs it, from the system's binaries (`/usr/lib/postgresql/*/bin`), in a
temporary directory on a free 127.0.0.1 port, and removed at the end. A server named by
SONI_TEST_POSTGRES_DSN is used instead when that is set. Where none can be had, the tests
skip and the reason says why."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.servers import free_port

DSN_VARIABLE = "SONI_TEST_POSTGRES_DSN"
needs_postgres = pytest.mark.postgres


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's program directory."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def why_not_startable() -> str | None:
    """Why this machine cannot start a throwaway PostgreSQL, or None when it can."""
    if postgres_bin() is None:
        return (
            "no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql, "
            f"as .ci/run does, or set {DSN_VARIABLE} to a server's DSN)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and PostgreSQL refuses root: runuser is needed to run it"
    return None


def _run(program: Path, *args: str, check: bool = True) -> None:
    """Run one of PostgreSQL's programs; as root, as the postgres user (it refuses root)."""
    command = [str(program), *args]
    if os.geteuid() == 0:
        command = [str(shutil.which("runuser")), "-u", "postgres", "--", *command]
    subprocess.run(command, check=check, capture_output=True, timeout=120)


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL cluster in its own temporary directory, listening on 127.0.0.1."""

    data: Path
    port: int

    @classmethod
    def create(cls) -> ThrowawayPostgres:
        data = Path(tempfile.mkdtemp(prefix="soni-pg-"))
        data.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(data, "postgres")
        _run(_bin("initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres")
        return cls(data, free_port())

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        db, log = str(self.data / "db"), str(self.data / "log")
        _run(_bin("pg_ctl"), "-D", db, "-l", log, "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        db = str(self.data / "db")
        _run(_bin("pg_ctl"), "-D", db, "-m", mode, "-w", "stop", check=mode == "fast")

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data, ignore_errors=True)


def _bin(program: str) -> Path:
    directory = postgres_bin()
    assert directory is not None
    return directory / program


def started() -> ThrowawayPostgres:
    """A new throwaway server, running; a few ports are tried in case another process takes
    the free one before PostgreSQL binds it."""
    server = ThrowawayPostgres.create()
    for _ in range(3):
        try:
            server.start()
            return server
        except subprocess.CalledProcessError:
            server.port = free_port()
    server.start()  # the last try raises with PostgreSQL's own message
    return server


class SessionPostgres:
    """The session's server: started on first use, removed by `close`."""

    def __init__(self) -> None:
        self.server: ThrowawayPostgres | None = None
        self.problem: str | None = None

    def ensure(self) -> str | None:
        """Make SONI_TEST_POSTGRES_DSN name a running server; None, or why it cannot."""
        if os.environ.get(DSN_VARIABLE) or self.server is not None:
            return None
        if self.problem is None:
            self.problem = why_not_startable()
        if self.problem is not None:
            return self.problem
        try:
            self.server = started()
        except (OSError, subprocess.SubprocessError) as error:
            stderr = getattr(error, "stderr", b"") or b""
            self.problem = f"PostgreSQL did not start: {error} {stderr.decode(errors='replace')}"
            return self.problem
        os.environ[DSN_VARIABLE] = self.server.dsn
        return None

    def close(self) -> None:
        if self.server is not None:
            os.environ.pop(DSN_VARIABLE, None)
            self.server.remove()
            self.server = None


SESSION = SessionPostgres()


def postgres_dsn() -> str:
    """The DSN of the session's PostgreSQL (only inside a test marked `postgres`)."""
    dsn = os.environ.get(DSN_VARIABLE)
    assert dsn, "only tests marked `postgres` (needs_postgres) may ask for PostgreSQL"
    return dsn
