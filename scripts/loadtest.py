"""Load, leak and shutdown figures of `soni serve`, measured over HTTP on 127.0.0.1.

Starts the server (`python -m soni serve`, the banking example, a fresh SQLite checkpointer)
on a free port and drives it with httpx from this process:

1. burst     1000 requests at once (250 users x 4); then every user's turn counter must
             equal the requests it sent: nothing lost, nothing applied twice.
2. latency   50 users in a closed loop (send, wait for the reply, send again) for
             --duration seconds: throughput and p50/p95/p99 latency.
3. resets    100 concurrent `DELETE /state/{user}` of users that have a conversation.
4. memory    server RSS after a warm-up and after --leak-requests more requests.
5. shutdown  SIGTERM while 50 users are talking; restart on the same file and read every
             user's state back: each answered turn must be there.
6. idle      10,000 idle keep-alive connections: server RSS per connection, a chat meanwhile.
7. floor     the latency phase again against a bare FastAPI endpoint doing one aiosqlite
             write per request (`scripts/floor_app.py`), in the same run: soni/floor ratios.
8. soak      with --requests N: N requests from 50 users sharing one httpx client (50
             connections), each with an Idempotency-Key and retried with it after a transport
             error; transport errors apart from HTTP errors, and every user's turn counter
             against the messages it had answered: duplicates applied and turns lost.

Everything is bounded: request counts are fixed, each phase has a deadline, and the server
is killed if it does not stop. Prints the figures and, with --output, writes the markdown
report through the audit's Jinja2 environment.

    python scripts/loadtest.py                              # figures on stdout
    python scripts/loadtest.py --output reports/load-test.md
    python scripts/loadtest.py --requests 100000 --output reports/load-test.md   # with soak
    python scripts/loadtest.py --replicas 2 --postgres DSN --duration 20 \
        --output reports/load-test-replicas.md          # replicas instead (loadtest_replicas)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

import loadtest_replicas
from harness.clients import failure, open_client, open_clients, say, turn
from harness.conversation import message
from harness.phases import Latency, phase
from harness.report import command, publish
from harness.servers import Server

TARGETS = {
    "burst_errors": "0 errors; every user's turn counter equals its requests",
    "p95_ms": "p95 < 100 ms at 50 concurrent users (SQLite checkpointer)",
    "resets_s": "100 concurrent resets in < 1 s in total",
    "rss_growth_mb": "RSS growth < 20 MB over 10,000 requests after warm-up",
    "shutdown_lost": "every request answered 200 is persisted",
    "idle_kb": "10,000 idle keep-alive connections: < 16 KB of server memory each, others served",
    "soak": "0 transport errors, 0 duplicates applied, 0 turns lost (50 users, one shared client)",
}
SOAK_ATTEMPTS = 5
"""A request whose connection failed is sent again with the same key, up to this often."""


# -- measurements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Burst:
    requests: int
    users: int
    errors: Counter[str]
    """Failed requests by kind: the status and error type, or the transport exception."""
    seconds: float
    wrong_turns: int
    examples: tuple[str, ...]

    @property
    def met(self) -> bool:
        return not self.errors and self.wrong_turns == 0


async def burst(server: Server, users: int = 250, each: int = 4) -> Burst:
    async with open_clients(server, users, connections=each) as clients:
        began = time.perf_counter()
        replies = await asyncio.gather(
            *(
                say(client, f"burst-{u}", message(i))
                for u, client in enumerate(clients)
                for i in range(each)
            ),
            return_exceptions=True,
        )
        seconds = time.perf_counter() - began
        states = await asyncio.gather(
            *(client.get(f"/state/burst-{u}") for u, client in enumerate(clients))
        )
    errors = Counter(failure(reply) for reply in replies if failure(reply))
    wrong = [
        f"burst-{u}: {s.json()['turn'] if s.status_code == 200 else s.status_code}"
        for u, s in enumerate(states)
        if s.status_code != 200 or s.json()["turn"] != each
    ]
    return Burst(users * each, users, errors, seconds, len(wrong), tuple(wrong[:5]))


@dataclass
class _Tally:
    samples: list[float] = field(default_factory=list)
    errors: int = 0
    answered: dict[str, int] = field(default_factory=dict)
    """The turn number of each user's last 200."""


async def _closed_loop(
    clients: Sequence[httpx.AsyncClient], until: Callable[[], bool], prefix: str
) -> _Tally:
    tally = _Tally()

    async def talk(user: str, client: httpx.AsyncClient) -> None:
        i = 0
        while not until():
            began = time.perf_counter()
            try:
                reply = await say(client, user, message(i))
            except httpx.TransportError:
                tally.errors += 1
                return  # the server is going away (shutdown phase)
            if reply.status_code == 200:
                tally.samples.append(time.perf_counter() - began)
                tally.answered[user] = reply.json()["turn"]
            else:
                tally.errors += 1
            i += 1

    await asyncio.gather(*(talk(f"{prefix}-{u}", client) for u, client in enumerate(clients)))
    return tally


async def latency(server: Server, users: int, duration: float) -> Latency:
    async with open_clients(server, users) as clients:
        # warm-up: every user opens its connection and conversation first
        await asyncio.gather(*(say(c, f"loop-{u}", "hi") for u, c in enumerate(clients)))
        server_cpu, client_cpu = server.cpu_s(), time.process_time()
        began = time.perf_counter()
        deadline = began + duration
        tally = await _closed_loop(clients, lambda: time.perf_counter() >= deadline, "loop")
        seconds = time.perf_counter() - began
        answered = max(1, len(tally.samples))
        return Latency.of(
            tally.samples,
            tally.errors,
            seconds,
            server_cpu_ms=(server.cpu_s() - server_cpu) * 1000 / answered,
            client_cpu_ms=(time.process_time() - client_cpu) * 1000 / answered,
        )


@dataclass(frozen=True)
class Resets:
    resets: int
    seconds: float
    errors: int
    still_there: int

    @property
    def met(self) -> bool:
        return self.seconds < 1 and self.errors == 0 and self.still_there == 0


async def resets(server: Server, users: int = 100) -> Resets:
    async with open_clients(server, users) as clients:
        pairs = list(enumerate(clients))
        await asyncio.gather(*(say(c, f"reset-{u}", "send 20 to Bob") for u, c in pairs))
        began = time.perf_counter()
        replies = await asyncio.gather(*(c.delete(f"/state/reset-{u}") for u, c in pairs))
        seconds = time.perf_counter() - began
        left = await asyncio.gather(*(c.get(f"/state/reset-{u}") for u, c in pairs))
    errors = sum(1 for r in replies if r.status_code != 204)
    return Resets(users, seconds, errors, sum(1 for r in left if r.status_code != 404))


@dataclass(frozen=True)
class Memory:
    requests: int
    before_mb: float
    after_mb: float
    seconds: float
    errors: int

    @property
    def growth_mb(self) -> float:
        return self.after_mb - self.before_mb

    @property
    def met(self) -> bool:
        return self.growth_mb < 20 and self.errors == 0


async def memory(server: Server, requests: int, warmup: int = 2000) -> Memory:
    """`requests` more requests from 50 users over 1000 conversations, after `warmup`."""
    errors = 0

    async def drive(count: int, offset: int) -> None:
        numbers = iter(range(offset, offset + count))

        async def user(client: httpx.AsyncClient) -> None:
            nonlocal errors
            for n in numbers:
                reply = await say(client, f"mem-{n % 1000}", message(n))
                errors += reply.status_code != 200

        async with open_clients(server, 50) as clients:
            await asyncio.gather(*(user(client) for client in clients))

    await drive(warmup, 0)
    before = server.rss_mb()
    began = time.perf_counter()
    await drive(requests, warmup)
    return Memory(requests, before, server.rss_mb(), time.perf_counter() - began, errors)


@dataclass(frozen=True)
class Shutdown:
    answered: int
    refused: int
    users: int
    lost: int
    examples: tuple[str, ...]
    exit_code: int

    @property
    def met(self) -> bool:
        return self.lost == 0


async def shutdown(workdir: Path, users: int = 50, talk_for: float = 2.0) -> Shutdown:
    server = Server(workdir)
    await server.start()
    stopped = False

    async def stop_later() -> int:
        nonlocal stopped
        await asyncio.sleep(talk_for)
        code = await server.stop()
        stopped = True
        return code

    async with open_clients(server, users) as clients:
        stopper = asyncio.create_task(stop_later())
        tally = await _closed_loop(clients, lambda: stopped, "down")
        exit_code = await stopper
    restarted = Server(workdir)
    await restarted.start()
    try:
        async with open_client(restarted, users) as client:
            states = await asyncio.gather(*(client.get(f"/state/{u}") for u in tally.answered))
    finally:
        await restarted.stop()
    lost = [
        f"{user} (answered turn {turn}, saved {s.json()['turn'] if s.status_code == 200 else '-'})"
        for (user, turn), s in zip(tally.answered.items(), states, strict=True)
        if s.status_code != 200 or s.json()["turn"] != turn
    ]
    return Shutdown(
        len(tally.samples), tally.errors, len(tally.answered), len(lost), tuple(lost[:5]), exit_code
    )


@dataclass(frozen=True)
class Idle:
    connections: int
    held: int
    """Connections the server had open once all were made."""
    before_mb: float
    after_mb: float
    chat_ms: float
    """One chat request sent while they were all open."""
    chat_status: int

    @property
    def kb_each(self) -> float:
        return (self.after_mb - self.before_mb) * 1024 / max(1, self.connections)

    @property
    def met(self) -> bool:
        return self.held >= self.connections and self.kb_each < 16 and self.chat_status == 200


def _open_idle(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


def _close_all(sockets: Sequence[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


async def idle(server: Server, count: int = 10_000) -> Idle:
    """`count` connections that never send a request, held while one user chats."""
    process = psutil.Process(server.pid)
    before = server.rss_mb()
    sockets = await asyncio.to_thread(_open_idle, server.port, count)
    try:
        held = 0
        for _ in range(100):
            held = len(await asyncio.to_thread(process.net_connections))
            if held >= count:
                break
            await asyncio.sleep(0.1)
        after = server.rss_mb()
        async with open_client(server) as client:
            began = time.perf_counter()
            reply = await say(client, "idle-check", "hi")
            chat_ms = (time.perf_counter() - began) * 1000
    finally:
        await asyncio.to_thread(_close_all, sockets)
    return Idle(count, held, before, after, chat_ms, reply.status_code)


@dataclass(frozen=True)
class Soak:
    requests: int
    users: int
    seconds: float
    http_errors: Counter[int]
    """Status codes other than 200, answered by the server (the turn may have run: 422)."""
    transport_errors: Counter[str]
    """Connections that failed without an answer, by exception: each was retried."""
    unanswered: int
    """Messages with no answer after every attempt (their outcome is unknown)."""
    duplicates: int
    """Turns applied beyond the messages the users had answered."""
    lost: int
    """Answered messages missing from the saved conversation."""
    server_cpu_ms: float
    examples: tuple[str, ...]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @property
    def met(self) -> bool:
        return not self.transport_errors and not (self.unanswered or self.duplicates or self.lost)


async def soak(server: Server, requests: int, users: int = 50) -> Soak:
    """The closed loop that lost a request in ~3,000 before the fix: one httpx client whose
    50 pooled connections the users share, so some connections idle for seconds."""
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    numbers = iter(range(requests))
    applied: Counter[str] = Counter()
    http_errors: Counter[int] = Counter()
    transport: Counter[str] = Counter()
    unanswered = 0

    async def user(client: httpx.AsyncClient, name: str) -> None:
        nonlocal unanswered
        for n in numbers:
            key = str(uuid.uuid4())
            for _ in range(SOAK_ATTEMPTS):
                try:
                    reply = await client.post(
                        "/chat",
                        json={"user_id": name, "message": message(n)},
                        headers={"Idempotency-Key": key},
                    )
                    break
                except httpx.TransportError as error:
                    transport[f"{type(error).__name__}: {error}"[:80]] += 1
            else:
                unanswered += 1
                continue
            applied[name] += turn(reply) is not None
            if reply.status_code != 200:
                http_errors[reply.status_code] += 1

    names = [f"soak-{u}" for u in range(users)]
    async with httpx.AsyncClient(
        base_url=server.url, limits=limits, timeout=60.0, headers=server.headers
    ) as client:
        cpu = server.cpu_s()
        began = time.perf_counter()
        await asyncio.gather(*(user(client, name) for name in names))
        seconds = time.perf_counter() - began
        cpu = server.cpu_s() - cpu
        states = await asyncio.gather(*(client.get(f"/state/{name}") for name in names))
    saved = {
        name: state.json()["turn"] if state.status_code == 200 else 0
        for name, state in zip(names, states, strict=True)
    }
    duplicates = sum(max(0, saved[name] - applied[name]) for name in names)
    lost = sum(max(0, applied[name] - saved[name]) for name in names)
    examples = tuple(
        f"{name}: {applied[name]} answered, {saved[name]} saved"
        for name in names
        if saved[name] != applied[name]
    )[:5]
    return Soak(
        requests,
        users,
        seconds,
        http_errors,
        transport,
        unanswered,
        duplicates,
        lost,
        cpu * 1000 / max(1, requests),
        examples,
    )


# -- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    startup_s: float
    users: int
    duration: float
    burst: Burst
    latency: Latency
    resets: Resets
    memory: Memory
    shutdown: Shutdown
    idle: Idle
    floor: Latency
    soak: Soak | None

    @property
    def p95_met(self) -> bool:
        return self.latency.p95_ms < 100 and self.latency.errors == 0

    @property
    def throughput_ratio(self) -> float:
        return self.latency.throughput / self.floor.throughput

    @property
    def p95_ratio(self) -> float:
        return self.latency.p95_ms / self.floor.p95_ms

    @property
    def all_met(self) -> bool:
        parts: list[Burst | Resets | Memory | Shutdown | Idle | Soak] = [
            self.burst,
            self.resets,
            self.memory,
            self.shutdown,
            self.idle,
        ]
        if self.soak is not None:
            parts.append(self.soak)
        return self.p95_met and all(part.met for part in parts)


async def run(args: argparse.Namespace, workdir: Path) -> Figures:
    server = Server(workdir / "main")
    await asyncio.to_thread(server.workdir.mkdir)
    began = time.perf_counter()
    await server.start()
    startup = time.perf_counter() - began
    try:
        burst_figures = await phase("burst", burst(server), 120)
        loop_figures = await phase(
            "latency", latency(server, args.users, args.duration), args.duration + 60
        )
        reset_figures = await phase("resets", resets(server), 60)
        memory_figures = await phase("memory", memory(server, args.leak_requests), 600)
        idle_figures = await phase("idle", idle(server), 120)
        soak_figures = None
        if args.requests:
            soak_figures = await phase(
                f"soak ({args.requests} requests)", soak(server, args.requests), 3600
            )
    finally:
        await server.stop()
    await asyncio.to_thread((workdir / "down").mkdir)
    shutdown_figures = await phase("shutdown", shutdown(workdir / "down"), 180)
    floor = Server(workdir / "floor", floor=True)
    await asyncio.to_thread(floor.workdir.mkdir)
    await floor.start()
    try:
        floor_figures = await phase(
            "floor", latency(floor, args.users, args.duration), args.duration + 60
        )
    finally:
        await floor.stop()
    return Figures(
        startup,
        args.users,
        args.duration,
        burst_figures,
        loop_figures,
        reset_figures,
        memory_figures,
        shutdown_figures,
        idle_figures,
        floor_figures,
        soak_figures,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="closed-loop users (default 50)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of the loop")
    parser.add_argument("--leak-requests", type=int, default=10_000)
    parser.add_argument(
        "--requests",
        type=int,
        default=0,
        metavar="N",
        help="soak: N more requests from 50 users sharing one client, with idempotent retries",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        metavar="N",
        help="instead of the phases above: N `soni serve` replicas on --postgres, 1 against N "
        "and a kill -9 under load (scripts/loadtest_replicas.py; --users, --duration and "
        "--output apply)",
    )
    parser.add_argument(
        "--postgres", metavar="DSN", help="the PostgreSQL the replicas share (with --replicas)"
    )
    parser.add_argument("--output", type=Path, help="write the markdown report here")
    args = parser.parse_args(argv)
    if args.replicas is not None:
        return _replicas(parser, args)
    with tempfile.TemporaryDirectory(prefix="soni-loadtest-") as scratch:
        figures = asyncio.run(run(args, Path(scratch)))
    publish(
        "load-test.md.j2",
        args.output,
        f=figures,
        targets=TARGETS,
        cores=os.cpu_count(),
        command=command("scripts/loadtest.py", sys.argv[1:]),
    )
    return 0 if figures.all_met else 1


def _replicas(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.replicas < 2 or not args.postgres:
        parser.error("--replicas needs N >= 2 and --postgres DSN")
    if args.requests:
        parser.error("--requests (the soak) is a single-server phase: not with --replicas")
    return loadtest_replicas.main(args)


if __name__ == "__main__":
    raise SystemExit(main())
