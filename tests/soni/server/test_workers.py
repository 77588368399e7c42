"""`soni serve --workers N`: real worker processes on one port over the test PostgreSQL. One
user's conversation goes on across workers without forking, a killed worker is replaced
while the others serve, SIGTERM drains them all, and a server whose workers cannot start
stops instead of restarting them for ever. Without PostgreSQL, several workers are refused."""

from __future__ import annotations

import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psutil
import pytest

from soni.cli import main
from tests.postgres import needs_postgres, postgres_dsn
from tests.soni.server.conftest import STARTUP_LIMIT_S, Served, launch, use_postgres
from tests.soni.server.test_lifecycle import assert_clean_log, slow_check_limits
from tests.soni.server.test_transport import chat, turn_of

ACCESS = re.compile(r'\[(\d+)\] 127\.0\.0\.1:\d+ - "POST /chat HTTP/1\.1" 200')
READY = re.compile(r"worker (\d+) ready")


def serve_workers(domain: Path, tmp_path: Path, *extra: str, dsn: str | None = None) -> Served:
    """`soni serve --workers 2` of the copied test domain on PostgreSQL (the test database
    unless `dsn`)."""
    database = dsn or postgres_dsn()
    assert database is not None
    config = use_postgres(domain, database)
    args = ["-m", "soni", "serve", "--config", str(config), "--port", "{port}", "--workers", "2"]
    return launch([*args, "--insecure-no-auth", *extra], tmp_path / "server.log")


def ready_workers(served: Served, count: int) -> list[int]:
    """The pids of the first `count` workers the supervisor saw ready, once it has."""
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        pids = [int(pid) for pid in READY.findall(served.log())]
        if len(pids) >= count:
            return pids[:count]
        assert served.process.poll() is None, served.log()
        time.sleep(0.05)
    raise AssertionError(f"{count} workers not ready in {STARTUP_LIMIT_S} s:\n{served.log()}")


def access_lines(served: Served, since: int, count: int) -> list[int]:
    """The pids of the /chat access lines logged after offset `since`, once there are
    `count` (workers write their lines from a thread, moments after the response)."""
    deadline = time.monotonic() + 5
    while len(found := ACCESS.findall(served.log()[since:])) < count:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return [int(pid) for pid in found]


def serving_pids(served: Served) -> set[int]:
    """The workers whose access log lines show a /chat they answered."""
    return {int(pid) for pid in ACCESS.findall(served.log())}


def assert_stopped_cleanly(served: Served, workers: int) -> None:
    assert served.stop() == 0, served.log()
    assert_clean_log(served)
    assert served.log().count("Application shutdown complete") == workers
    assert "all workers stopped" in served.log()


@contextmanager
def two_workers(domain: Path, tmp_path: Path, *extra: str) -> Iterator[tuple[Served, list[int]]]:
    served = serve_workers(domain, tmp_path, *extra)
    try:
        served.wait_ready()
        yield served, ready_workers(served, 2)
    finally:
        if served.process.poll() is None:
            served.process.kill()


@needs_postgres
def test_one_users_conversation_goes_on_across_both_workers(
    domain_copy: Path, tmp_path: Path
) -> None:
    user = f"pg-{uuid.uuid4().hex}"
    with two_workers(domain_copy, tmp_path) as (served, pids):
        workers = {child.pid for child in psutil.Process(served.process.pid).children()}
        assert set(pids) <= workers
        turns: list[int] = []
        while serving_pids(served) != set(pids):  # new connections, spread by the kernel
            assert len(turns) < 200, f"one worker served all {len(turns)} turns"
            turns.append(chat(served, user, "hello").json()["turn"])
        assert turns == list(range(1, len(turns) + 1))

        turn = len(turns)
        for _ in range(10):  # until one burst of the user's messages reaches both workers
            seen = len(served.log())
            burst = send_at_once(served, user, 8)
            assert sorted(burst) == list(range(turn + 1, turn + 9))  # in line, never forked
            turn += 8
            if {int(pid) for pid in access_lines(served, seen, 8)} == set(pids):
                break
        else:
            raise AssertionError(f"no burst reached both workers:\n{served.log()}")
        assert turn_of(served, user) == turn
        assert_stopped_cleanly(served, 2)


def send_at_once(served: Served, user: str, count: int) -> list[int]:
    """`count` messages of `user` sent together, each on a connection of its own; the
    turns they were answered with."""
    turns: list[int] = []

    def send() -> None:
        turns.append(chat(served, user, "hello").json()["turn"])

    senders = [threading.Thread(target=send) for _ in range(count)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=60)
    return turns


@needs_postgres
def test_a_killed_worker_is_replaced_while_the_other_serves(
    domain_copy: Path, tmp_path: Path
) -> None:
    user = f"pg-{uuid.uuid4().hex}"
    with two_workers(domain_copy, tmp_path) as (served, pids):
        turns: list[int] = []
        lost: list[httpx.TransportError] = []
        refused: list[httpx.Response] = []
        stop = threading.Event()

        def traffic() -> None:
            for _ in range(2000):
                if stop.is_set():
                    return
                try:
                    reply = chat(served, user, "hello")
                except httpx.TransportError as error:  # the killed worker's request
                    lost.append(error)
                    continue
                if reply.status_code != 200:  # e.g. a worker taking requests while it starts
                    refused.append(reply)
                    return
                turns.append(reply.json()["turn"])

        sender = threading.Thread(target=traffic)
        sender.start()
        try:
            deadline = time.monotonic() + 60
            while len(turns) < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(turns) >= 10, served.log()
            doomed, survivor = pids
            psutil.Process(doomed).kill()
            replacement = ready_workers(served, 3)[2]
            assert f"worker {doomed} died (killed by SIGKILL): starting another" in served.log()
            deadline = time.monotonic() + 60
            while replacement not in serving_pids(served) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert replacement in serving_pids(served), served.log()
        finally:
            stop.set()
            sender.join(timeout=60)
        assert refused == [], refused[0].text
        assert len(lost) <= 1, lost  # at most the one turn in flight on the killed worker
        assert turns == sorted(set(turns)), turns  # one line of turns, never a fork
        # No turn is missing but, perhaps, the one lost with the killed worker.
        assert turns[0] == 1
        assert len(turns) <= turns[-1] <= len(turns) + len(lost)
        assert turn_of(served, user) == turns[-1]
        assert {survivor, replacement} <= serving_pids(served)
        assert_stopped_cleanly(served, 2)


@needs_postgres
def test_sigterm_drains_every_worker_and_exits_0(domain_copy: Path, tmp_path: Path) -> None:
    slow_check_limits(domain_copy)  # "transfer 40 to Bob" is in flight for a second
    with two_workers(domain_copy, tmp_path, "--shutdown-delay", "1") as (served, _):
        users = [f"pg-{uuid.uuid4().hex}" for _ in range(4)]
        replies: list[httpx.Response] = []
        senders = [
            threading.Thread(
                target=lambda u=user: replies.append(chat(served, u, "transfer 40 to Bob"))
            )
            for user in users
        ]
        for sender in senders:
            sender.start()
        time.sleep(0.3)
        served.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        ready = httpx.get(served.url + "/ready", timeout=5)  # whichever worker answers
        assert (ready.status_code, ready.json()["error"]["details"]) == (503, {"phase": "stopping"})
        for sender in senders:
            sender.join(timeout=60)
        assert [reply.status_code for reply in replies] == [200] * 4
        assert [reply.json()["reply"] for reply in replies] == ["Send 40.00 to Bob?"] * 4
        assert_stopped_cleanly(served, 2)
    assert "SIGTERM: stopping the workers" in served.log()


@needs_postgres
def test_workers_stop_by_themselves_when_the_supervisor_is_killed(
    domain_copy: Path, tmp_path: Path
) -> None:
    with two_workers(domain_copy, tmp_path) as (served, pids):
        workers = [psutil.Process(pid) for pid in pids]
        served.process.kill()
        served.process.wait()
        _, alive = psutil.wait_procs(workers, timeout=60)
        assert alive == []
        assert served.log().count("the supervisor is gone: stopping") == 2
        assert served.log().count("Application shutdown complete") == 2


@needs_postgres
def test_workers_whose_runtime_cannot_start_stop_the_server_with_3(
    domain_copy: Path, tmp_path: Path
) -> None:
    missing = postgres_dsn().rsplit("/", 1)[0] + f"/missing_{uuid.uuid4().hex}"
    served = serve_workers(domain_copy, tmp_path, dsn=missing)
    try:
        # Each runtime gives up when its pool has no connection within 30 s.
        assert served.process.wait(timeout=120) == 3
    finally:
        if served.process.poll() is None:
            served.process.kill()
    log = served.log()
    assert "the runtime failed to start" in log
    assert re.search(r"worker \d+ exited before it was ready \(exit code 3\)", log), log
    assert len(re.findall(r"worker \d+ started", log)) == 2, log  # none started again


# -- refused ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persistence", "state", "named"),
    [
        (None, False, "settings.persistence.backend is sqlite"),
        ("{backend: memory}", False, "settings.persistence.backend is memory"),
        (None, True, "--state keeps them in the SQLite file"),
    ],
)
def test_several_workers_need_conversations_in_postgres(
    domain_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    persistence: str | None,
    state: bool,
    named: str,
) -> None:
    config = domain_copy / "domain.yaml"
    if persistence is not None:
        sqlite = "{backend: sqlite, path: ./state/soni.db}"
        config.write_text(config.read_text().replace(sqlite, persistence))
    args = ["serve", "--config", str(config), "--insecure-no-auth", "--workers", "2"]
    assert main([*args, *(("--state", str(tmp_path / "s.db")) if state else ())]) == 2
    error = capsys.readouterr().err
    assert f"--workers 2 needs conversations in PostgreSQL ({named}" in error, error
    assert "--workers 1" in error


def test_the_loop_watchdog_report_needs_one_worker(
    domain_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = use_postgres(domain_copy, "postgresql://nobody@127.0.0.1:1/none")  # never reached
    report = str(tmp_path / "blocks.json")
    args = ["serve", "--config", str(config), "--insecure-no-auth", "--workers", "3"]
    assert main([*args, "--loop-watchdog-report", report]) == 2
    assert "--loop-watchdog-report is written by one process" in capsys.readouterr().err


def test_a_port_in_use_stops_the_supervisor_with_3(
    domain_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = use_postgres(domain_copy, "postgresql://nobody@127.0.0.1:1/none")  # never reached
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        args = ["serve", "--config", str(config), "--insecure-no-auth", "--workers", "2"]
        assert main([*args, "--port", port]) == 3
    assert f"cannot listen on 127.0.0.1:{port}" in caplog.text
    assert "started" not in caplog.text


@pytest.mark.parametrize(("value", "says"), [("0", "must be greater than 0"), ("two", "invalid")])
def test_the_number_of_workers_must_be_positive(
    value: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["serve", "--config", "domain.yaml", "--workers", value])
    assert exit.value.code == 2
    assert f"argument --workers: {says}" in capsys.readouterr().err


def test_help_documents_workers(capsys: pytest.CaptureFixture[str]) -> None:
    with suppress(SystemExit):
        main(["serve", "--help"])
    assert "--workers N" in capsys.readouterr().out
