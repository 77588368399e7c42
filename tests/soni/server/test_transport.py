"""The transport under faults, against real `soni serve` processes over raw sockets: idle
and trickling connections, oversized bodies sent slowly, clients that vanish mid-turn, and
retries made safe by `Idempotency-Key` (across a restart too)."""

from __future__ import annotations

import json
import re
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

from tests.soni.server.conftest import Served, launch, serve_args, use_postgres
from tests.soni.server.test_lifecycle import CLEAN_EXIT, assert_clean_log, slow_check_limits
from tests.soni.test_state_roundtrip import POSTGRES, needs_postgres

HTTPX_KEEPALIVE_EXPIRY_S = 5.0
"""httpx's default: it reuses a connection idle up to this long."""


@contextmanager
def serving(domain: Path, tmp_path: Path, *extra: str, state: str = "state.db") -> Iterator[Served]:
    served = launch(serve_args(domain / "domain.yaml", tmp_path / state, *extra), tmp_path / "log")
    try:
        served.wait_ready()
        yield served
    finally:
        assert served.stop() in CLEAN_EXIT
    assert_clean_log(served)


def connect(served: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    return sock


def chat_request(user: str, message: str, key: str | None = None) -> bytes:
    body = json.dumps({"user_id": user, "message": message}).encode()
    head = [
        "POST /chat HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *([f"Idempotency-Key: {key}"] if key else []),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response (Content-Length framed), or status 0 if the server closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, {}, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def unanswered(sock: socket.socket) -> bool:
    """Nothing from the server yet, and the connection still open."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def chat(served: Served, user: str, message: str, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    body = {"user_id": user, "message": message}
    return httpx.post(served.url + "/chat", json=body, headers=headers, timeout=30)


def turn_of(served: Served, user: str) -> int | None:
    state = httpx.get(f"{served.url}/state/{user}", timeout=10)
    return int(state.json()["turn"]) if state.status_code == 200 else None


# -- keep-alive ----------------------------------------------------------------------------------


def test_an_idle_connection_outlives_the_clients_reuse_window(
    domain_copy: Path, tmp_path: Path
) -> None:
    """The cause of the dropped requests: uvicorn closed idle connections after 5 s, the
    instant httpx (5 s too) reused them; a request sent into the closing socket was reset.
    The server must keep an idle connection longer than clients reuse one."""
    with serving(domain_copy, tmp_path) as served:
        sock = connect(served)
        sock.sendall(chat_request("kai", "hello"))
        assert read_response(sock)[0] == 200
        assert not closed_by_server(sock, HTTPX_KEEPALIVE_EXPIRY_S + 1)
        sock.sendall(chat_request("kai", "send money"))
        status, _, body = read_response(sock)
        assert status == 200, body
        assert json.loads(body)["turn"] == 2
        sock.close()


def test_idle_connections_are_closed_after_keep_alive_also_before_any_request(
    domain_copy: Path, tmp_path: Path
) -> None:
    with serving(domain_copy, tmp_path, "--keep-alive", "1") as served:
        silent, used = connect(served), connect(served)
        used.sendall(chat_request("lea", "hello"))
        assert read_response(used)[0] == 200
        assert closed_by_server(silent, 5)
        assert closed_by_server(used, 5)
        silent.close()
        used.close()


def test_ten_thousand_idle_connections_cost_bounded_memory(
    domain_copy: Path, tmp_path: Path
) -> None:
    with serving(domain_copy, tmp_path) as served:
        server = psutil.Process(served.process.pid)
        assert chat(served, "warm", "hello").status_code == 200
        before = server.memory_info().rss
        idle = [connect(served) for _ in range(10_000)]
        try:
            deadline = time.monotonic() + 30
            while len(server.net_connections()) < 10_000 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(server.net_connections()) >= 10_000  # all accepted and held
            grown = server.memory_info().rss - before
            assert grown < 10_000 * 16 * 1024, f"{grown / 2**20:.0f} MB for 10,000 connections"
            served_meanwhile = chat(served, "busy", "send money")
            assert served_meanwhile.status_code == 200
        finally:
            for sock in idle:
                sock.close()


# -- slow and oversized requests -----------------------------------------------------------------


def test_a_slowloris_gets_408_and_other_users_are_served_meanwhile(
    domain_copy: Path, tmp_path: Path
) -> None:
    with serving(domain_copy, tmp_path, "--request-timeout", "2") as served:
        slow = [connect(served) for _ in range(20)]
        for sock in slow:
            sock.sendall(b"POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        stop = threading.Event()

        def trickle() -> None:
            while not stop.is_set():
                for sock in slow:
                    with suppress(OSError):
                        sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.1)

        trickler = threading.Thread(target=trickle)
        trickler.start()
        try:
            began = time.monotonic()
            replies = [chat(served, f"fast-{n}", "hello") for n in range(5)]
            assert [reply.status_code for reply in replies] == [200] * 5
            assert all(unanswered(sock) for sock in slow), "others waited for the slow ones"
            answers = [read_response(sock) for sock in slow]
        finally:
            stop.set()
            trickler.join()
        for status, headers, body in answers:
            assert status == 408
            assert headers["connection"] == "close"
            assert json.loads(body)["error"]["type"] == "request_timeout"
        assert all(closed_by_server(sock, 2) for sock in slow)
        assert time.monotonic() - began >= 2
    assert "a request not received in full within 2 s" in served.log()


def test_a_body_trickled_past_the_deadline_is_never_applied(
    domain_copy: Path, tmp_path: Path
) -> None:
    with serving(domain_copy, tmp_path, "--request-timeout", "1") as served:
        sock = connect(served)
        whole = chat_request("nia", "send money")
        head_end = whole.index(b"\r\n\r\n") + 4
        sock.sendall(whole[:head_end])
        for byte in whole[head_end:-1]:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.1)
        status, _, body = read_response(sock)
        assert status == 408, body
        sock.close()
        assert turn_of(served, "nia") is None


def test_an_oversized_body_sent_slowly_is_refused_without_waiting_for_it(
    domain_copy: Path, tmp_path: Path
) -> None:
    with serving(domain_copy, tmp_path, "--request-timeout", "2") as served:
        declared = connect(served)
        declared.sendall(
            b"POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000\r\n\r\n" + b"{" + b" " * 100
        )
        status, _, body = read_response(declared)
        assert status == 413
        assert json.loads(body)["error"]["type"] == "payload_too_large"
        # it keeps trickling: the connection is closed at the deadline, not held for ever
        for _ in range(40):
            try:
                declared.sendall(b" " * 1000)
            except OSError:
                break
            time.sleep(0.1)
        assert closed_by_server(declared, 3)

        chunked = connect(served)
        chunked.sendall(
            b"POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        status = 0
        for _ in range(20):
            try:
                chunked.sendall(b"4000\r\n" + b" " * 0x4000 + b"\r\n")
            except OSError:
                break
            chunked.settimeout(0.05)
            try:
                status = read_response(chunked)[0]
                break
            except TimeoutError:
                continue
        assert status == 413
        assert chat(served, "ok", "hello").status_code == 200


# -- vanishing clients and safe retries ----------------------------------------------------------


def test_a_client_gone_mid_turn_and_its_retry_apply_the_turn_once(
    domain_copy: Path, tmp_path: Path
) -> None:
    slow_check_limits(domain_copy)  # the client hangs up while the turn runs
    key = str(uuid.uuid4())
    with serving(domain_copy, tmp_path) as served:
        sock = connect(served)
        sock.sendall(chat_request("ola", "transfer 40 to Bob", key))
        time.sleep(0.3)
        sock.close()  # a dropped connection: no reply ever reaches the client
        time.sleep(1.5)
        assert turn_of(served, "ola") == 1  # the whole turn, not half of it

        retry = chat(served, "ola", "transfer 40 to Bob", key)
        assert retry.status_code == 200
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json()["turn"] == 1
        assert retry.json()["reply"] == "Send 40.00 to Bob?"
        assert turn_of(served, "ola") == 1

        reused = chat(served, "ola", "yes", key)
        assert reused.status_code == 422
        assert reused.json()["error"]["type"] == "idempotency_key_reused"
        assert reused.json()["error"]["details"] == {"idempotency_key": key, "turn": 1}
        assert turn_of(served, "ola") == 1

        fresh = chat(served, "ola", "yes", str(uuid.uuid4()))
        assert fresh.json()["turn"] == 2
        assert "idempotent-replayed" not in fresh.headers

    with serving(domain_copy, tmp_path) as restarted:
        again = chat(restarted, "ola", "transfer 40 to Bob", key)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["turn"] == 1
        assert turn_of(restarted, "ola") == 2


def test_keys_are_per_user_and_expire(domain_copy: Path, tmp_path: Path) -> None:
    with serving(domain_copy, tmp_path, "--idempotency-ttl", "1") as served:
        assert chat(served, "pia", "hello", "same").json()["turn"] == 1
        other = chat(served, "quinn", "hello", "same")
        assert (other.json()["turn"], "idempotent-replayed" in other.headers) == (1, False)
        assert chat(served, "pia", "hello", "same").headers["idempotent-replayed"] == "true"
        time.sleep(1.2)
        expired = chat(served, "pia", "hello", "same")
        assert (expired.json()["turn"], "idempotent-replayed" in expired.headers) == (2, False)


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "naïve"])
def test_a_malformed_key_is_a_validation_error(test_app: Served, key: str) -> None:
    reply = httpx.post(
        test_app.url + "/chat",
        json={"user_id": "rex", "message": "hello"},
        headers={"Idempotency-Key": key.encode()},
        timeout=10,
    )
    assert reply.status_code == 422
    assert reply.json()["error"]["details"][0]["field"] == "header.Idempotency-Key"


def postgres_replicas(domain: Path, tmp_path: Path, count: int) -> list[Served]:
    """`count` servers of `domain` sharing the test PostgreSQL, as replicas would."""
    assert POSTGRES is not None
    config = use_postgres(domain, POSTGRES)
    args = ["-m", "soni", "serve", "--config", str(config), "--port", "{port}"]
    return [
        launch([*args, "--insecure-no-auth"], tmp_path / f"replica-{n}.log") for n in range(count)
    ]


@needs_postgres
def test_a_retry_sent_to_another_replica_is_answered_from_the_first(
    domain_copy: Path, tmp_path: Path
) -> None:
    replicas = postgres_replicas(domain_copy, tmp_path, 2)
    user, key = f"pg-{uuid.uuid4().hex}", str(uuid.uuid4())
    try:
        for replica in replicas:
            replica.wait_ready()
        first = chat(replicas[0], user, "send money", key)
        retry = chat(replicas[1], user, "send money", key)
        assert (first.json()["turn"], retry.json()["turn"]) == (1, 1)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == first.json()
        assert chat(replicas[1], user, "Bob", str(uuid.uuid4())).json()["turn"] == 2
        assert turn_of(replicas[0], user) == 2
    finally:
        for replica in replicas:
            assert replica.stop() in CLEAN_EXIT
    for replica in replicas:
        assert_clean_log(replica)


# -- behind a proxy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "logged_client"),
    [
        ((), "203.0.113.9"),  # a trusted proxy (127.0.0.1 by default) names the client
        (("--no-proxy-headers",), "127.0.0.1"),
        (("--forwarded-allow-ips", "10.0.0.1"), "127.0.0.1"),  # not a trusted peer
    ],
)
def test_proxy_headers_and_root_path(
    domain_copy: Path, tmp_path: Path, flags: tuple[str, ...], logged_client: str
) -> None:
    with serving(domain_copy, tmp_path, "--root-path", "/bot", *flags) as served:
        forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        assert httpx.get(served.url + "/health", headers=forwarded, timeout=10).status_code == 200
        schema = httpx.get(served.url + "/openapi.json", timeout=10).json()
        assert schema["servers"] == [{"url": "/bot"}]
    line = rf'{re.escape(logged_client)}:\d+ - "GET /bot/health HTTP/1.1" 200'
    assert re.search(line, served.log()), served.log()
    assert ("203.0.113.9" in served.log()) == (logged_client == "203.0.113.9")


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--keep-alive", "0"),
        ("--keep-alive", "1.5"),
        ("--request-timeout", "-1"),
        ("--idempotency-ttl", "0"),
    ],
)
def test_timeouts_must_be_positive(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from soni.cli import main

    with pytest.raises(SystemExit) as exit:
        main(["serve", "--config", "domain.yaml", flag, value])
    assert exit.value.code == 2
    assert f"argument {flag}:" in capsys.readouterr().err


@needs_postgres
def test_a_replica_killed_mid_turn_releases_the_user_to_the_others(
    domain_copy: Path, tmp_path: Path
) -> None:
    slow_check_limits(domain_copy)  # "transfer 40 to Bob" holds the user's turn for 1 s
    doomed, survivor = postgres_replicas(domain_copy, tmp_path, 2)
    user = f"pg-{uuid.uuid4().hex}"
    try:
        doomed.wait_ready()
        survivor.wait_ready()

        def hold() -> None:
            with suppress(httpx.TransportError):  # the replica dies while it answers
                chat(doomed, user, "transfer 40 to Bob")

        holder = threading.Thread(target=hold)
        holder.start()
        time.sleep(0.4)  # the doomed replica holds the user's lock, mid-turn
        waiting: list[httpx.Response] = []
        waiter = threading.Thread(target=lambda: waiting.append(chat(survivor, user, "hello")))
        waiter.start()
        time.sleep(0.3)
        assert waiter.is_alive(), "the second replica ran the turn without waiting"
        doomed.process.kill()  # SIGKILL: no cleanup, the connection just drops
        waiter.join(timeout=20)
        holder.join(timeout=20)
        assert waiting[0].status_code == 200
        assert waiting[0].json()["turn"] == 1  # the killed turn was never saved
        assert turn_of(survivor, user) == 1
    finally:
        if doomed.process.poll() is None:
            doomed.process.kill()
        doomed.process.wait()
        assert survivor.stop() in CLEAN_EXIT
