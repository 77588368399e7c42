"""Replicas of `soni serve` on one PostgreSQL: `python scripts/loadtest.py --replicas N
--postgres DSN` runs this instead of the single-server phases.

Starts N servers (the banking example, its persistence switched to the given PostgreSQL,
each with a service token, on 127.0.0.1) and drives 50 users in closed loops, every
message with an Idempotency-Key:

1. one     every user talks to replica 0 only, for --duration seconds.
2. spread  turn i of user u goes to replica (u + i) % N, so every user's turns alternate
           replicas, for --duration seconds.
3. kill    the spread loop again; a third of the way through, replica N-1 is killed with
           SIGKILL. A message whose request fails without an answer (the replica died
           under it, or refuses connections) is sent again with the same key to the next
           replica, as a client behind a load balancer would.

After each phase every user's turn counter is read back over HTTP and compared with the
turns it was answered (lost and duplicated turns), every answer's turn number with the one
before (each must be the next), and the `checkpoints` table is searched for forks: two
checkpoints of one thread with the same parent. Users are named after the run and the
phase, so the figures never mix with an earlier run's rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import psycopg

from harness.clients import failure, open_clients, turn
from harness.conversation import message
from harness.phases import Latency, phase
from harness.report import command, publish
from harness.servers import Server
from soni.examples.banking import DOMAIN

ATTEMPTS = 4
"""Tries of one message over the replicas (the same key each time) before giving up."""
KILL_AFTER = 1 / 3
"""When the victim dies, as a share of the kill phase."""
IN_MEMORY = "persistence: {backend: memory}"
TARGETS = {
    "spread": "turns alternating replicas: 0 lost, 0 applied twice, 0 out of sequence, 0 forks",
    "kill": "kill -9 of a replica under load: 0 acknowledged turns lost, 0 applied twice, "
    "0 forks; every user kept being served by the survivors",
}
FORKS = """
select count(distinct thread_id) as threads, count(*) as checkpoints,
       (select count(distinct thread_id) from (
            select thread_id from checkpoints where thread_id like %(users)s
            group by thread_id, checkpoint_ns, parent_checkpoint_id having count(*) > 1
        ) as forked) as forked
from checkpoints where thread_id like %(users)s
"""
"""Threads and checkpoints of a phase's users, and the threads with two children of one
parent (a conversation that forked: two turns each built on the same saved state)."""


# -- the replicas ------------------------------------------------------------------------------


def _postgres_domain(target: Path, dsn: str) -> Path:
    """A copy of the banking example whose conversations live in `dsn`."""
    shutil.copytree(DOMAIN.parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    config = target / DOMAIN.name
    text = config.read_text(encoding="utf-8")
    if IN_MEMORY not in text:
        raise RuntimeError(f"{DOMAIN} no longer says {IN_MEMORY!r}")
    postgres = f"persistence: {{backend: postgres, dsn: {json.dumps(dsn)}}}"
    config.write_text(text.replace(IN_MEMORY, postgres), encoding="utf-8")
    return config


async def _replicas(workdir: Path, count: int, dsn: str) -> list[Server]:
    """`count` servers (not started) of one banking domain on `dsn`, each in its directory."""
    config = await asyncio.to_thread(_postgres_domain, workdir / "domain", dsn)
    servers = [Server(workdir / f"replica-{n}", config=config) for n in range(count)]
    for server in servers:
        await asyncio.to_thread(server.workdir.mkdir)
    return servers


async def _start_all(servers: Sequence[Server]) -> float:
    """Start the replicas together (their migrations take turns); the seconds it took."""
    began = time.perf_counter()
    await asyncio.gather(*(server.start() for server in servers))
    return time.perf_counter() - began


async def _stop_all(servers: Sequence[Server]) -> None:
    """Stop the replicas still running (each killed if it does not stop in time)."""
    await asyncio.gather(*(server.stop() for server in servers if server.running))


def _cpu_s(servers: Sequence[Server]) -> float:
    return sum(server.cpu_s() for server in servers if server.running)


# -- one phase's conversations -----------------------------------------------------------------


@dataclass(frozen=True)
class _Sample:
    at: float
    """When the answer came (`time.perf_counter()`)."""
    seconds: float
    """From the first attempt to the answer: what the user waited, failovers included."""
    replica: int
    user: str


@dataclass
class _Account:
    applied: int = 0
    """Messages whose turn ran: answered 200, or 422 action_failed (the turn is saved)."""
    out_of_sequence: int = 0
    """Answers whose turn number was not the one after the user's previous answer."""
    unanswered: int = 0
    """Messages with no answer after every attempt: their outcome is unknown."""


@dataclass
class _Tally:
    samples: list[_Sample] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    """Failed attempts by kind: the status and error type, or the transport exception."""
    failed_over: int = 0
    """Messages answered by another replica than the one first tried."""
    replayed: int = 0
    """Answers replayed from a receipt: the turn had run, its first answer was lost."""
    users: dict[str, _Account] = field(default_factory=dict)

    async def deliver(
        self, clients: Sequence[httpx.AsyncClient], first: int, user: str, text: str
    ) -> None:
        """One message, to replica `first`; after a transport error, the same message and
        key to the next replica."""
        key, began = str(uuid.uuid4()), time.perf_counter()
        for attempt in range(ATTEMPTS):
            replica = (first + attempt) % len(clients)
            try:
                reply = await clients[replica].post(
                    "/chat",
                    json={"user_id": user, "message": text},
                    headers={"Idempotency-Key": key},
                )
            except httpx.TransportError as error:
                self.errors[failure(error)] += 1
                continue
            self.failed_over += attempt > 0
            self.record(user, replica, reply, began)
            return
        self.users.setdefault(user, _Account()).unanswered += 1

    def record(self, user: str, replica: int, reply: httpx.Response, began: float) -> None:
        now = time.perf_counter()
        account = self.users.setdefault(user, _Account())
        problem = failure(reply)
        if problem:
            self.errors[problem] += 1
        number = turn(reply)
        if number is None:
            return
        account.applied += 1
        account.out_of_sequence += number != account.applied
        self.replayed += reply.headers.get("idempotent-replayed") == "true"
        if not problem:
            self.samples.append(_Sample(now, now - began, replica, user))


Fleet = Sequence[Sequence[httpx.AsyncClient]]
"""For each user, its client of each replica it talks to."""


async def _converse(fleet: Fleet, prefix: str, tally: _Tally, until: Callable[[int], bool]) -> None:
    """Every user in a closed loop: turn i of user u to its replica (u + i) % N, until
    `until(i)`."""

    async def talk(u: int, clients: Sequence[httpx.AsyncClient]) -> None:
        i = 0
        while not until(i):
            await tally.deliver(clients, (u + i) % len(clients), f"{prefix}-{u}", message(i))
            i += 1

    await asyncio.gather(*(talk(u, clients) for u, clients in enumerate(fleet)))


async def _run_for(
    fleet: Fleet, prefix: str, tally: _Tally, duration: float, measuring: asyncio.Event
) -> None:
    """A warm-up (one turn per user on each of its replicas), then `duration` seconds of
    closed loop; `measuring` is set when the loop begins."""
    await _converse(fleet, prefix, tally, lambda i: i >= len(fleet[0]))
    measuring.set()
    deadline = time.perf_counter() + duration
    await _converse(fleet, prefix, tally, lambda _: time.perf_counter() >= deadline)


@dataclass(frozen=True)
class _Mark:
    """A moment, and the CPU the servers, this process and the whole machine had used by
    then."""

    at: float
    server_cpu_s: float
    client_cpu_s: float
    machine_cpu_s: float

    @classmethod
    def now(cls, servers: Sequence[Server]) -> _Mark:
        machine = psutil.cpu_times()
        busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        return cls(time.perf_counter(), _cpu_s(servers), time.process_time(), busy)


def _other_cores(since: _Mark, until: _Mark) -> float:
    """Cores busy between two marks with neither the replicas nor this load generator:
    PostgreSQL, and whatever else shares the machine."""
    machine = until.machine_cpu_s - since.machine_cpu_s
    ours = (until.server_cpu_s - since.server_cpu_s) + (until.client_cpu_s - since.client_cpu_s)
    return max(0.0, machine - ours) / max(1e-9, until.at - since.at)


def _latency(tally: _Tally, since: _Mark, until: _Mark) -> Latency:
    """The answers between two marks, with CPU per answer."""
    samples = [s.seconds for s in tally.samples if since.at <= s.at <= until.at]
    answered = max(1, len(samples))
    return Latency.of(
        samples,
        sum(tally.errors.values()),
        until.at - since.at,
        server_cpu_ms=(until.server_cpu_s - since.server_cpu_s) * 1000 / answered,
        client_cpu_ms=(until.client_cpu_s - since.client_cpu_s) * 1000 / answered,
    )


# -- what was saved ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Integrity:
    users: int
    turns: int
    """Turns saved, over all users."""
    lost: int
    """Turns answered but missing from the saved counters."""
    duplicates: int
    """Turns saved beyond the messages answered: applied twice."""
    out_of_sequence: int
    unanswered: int
    threads: int
    checkpoints: int
    forked: int
    """Threads with two checkpoints of one parent."""
    examples: tuple[str, ...]

    @property
    def met(self) -> bool:
        problems = (self.lost, self.duplicates, self.out_of_sequence, self.unanswered)
        return not any(problems) and self.forked == 0 and self.threads == self.users


async def _saved_turns(reader: Sequence[httpx.AsyncClient], users: Sequence[str]) -> list[int]:
    """Each user's turn counter, read over HTTP (user u through `reader[u]`)."""
    states = await asyncio.gather(
        *(client.get(f"/state/{user}") for client, user in zip(reader, users, strict=True))
    )
    return [int(s.json()["turn"]) if s.status_code == 200 else 0 for s in states]


async def _forks(dsn: str, prefix: str) -> tuple[int, int, int]:
    """(threads, checkpoints, forked threads) of the users named `prefix-*`."""
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        cursor = await connection.execute(FORKS, {"users": f"{prefix}-%"})
        row = await cursor.fetchone()
    assert row is not None
    threads, checkpoints, forked = row
    return int(threads), int(checkpoints), int(forked)


async def _integrity(
    tally: _Tally, reader: Sequence[httpx.AsyncClient], dsn: str, prefix: str
) -> Integrity:
    users = [f"{prefix}-{u}" for u in range(len(reader))]
    accounts = [tally.users.get(user, _Account()) for user in users]
    saved = await _saved_turns(reader, users)
    threads, checkpoints, forked = await _forks(dsn, prefix)
    pairs = list(zip(accounts, saved, strict=True))
    examples = tuple(
        f"{user}: {a.applied} answered, {s} saved"
        for user, (a, s) in zip(users, pairs, strict=True)
        if a.applied != s
    )
    return Integrity(
        users=len(users),
        turns=sum(saved),
        lost=sum(max(0, a.applied - s) for a, s in pairs),
        duplicates=sum(max(0, s - a.applied) for a, s in pairs),
        out_of_sequence=sum(a.out_of_sequence for a in accounts),
        unanswered=sum(a.unanswered for a in accounts),
        threads=threads,
        checkpoints=checkpoints,
        forked=forked,
        examples=examples[:5],
    )


# -- the phases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loop:
    """A closed loop over some replicas, and what it left in the database."""

    replicas: int
    latency: Latency
    errors: Counter[str]
    integrity: Integrity
    other_cores: float
    """Cores the rest of the machine kept busy meanwhile (PostgreSQL included)."""


@dataclass(frozen=True)
class Kill:
    loop: Loop
    killed_at_s: float
    """Seconds into the measured loop when the victim died."""
    window: Latency
    """The survivors' answers from the kill to the end of the loop."""
    by_replica: dict[int, int]
    """Answers in the kill window, by replica."""
    users_served: int
    """Users answered at least once in the kill window."""
    failed_over: int
    replayed: int
    victim_exit: int | None

    @property
    def met(self) -> bool:
        survivors = range(self.loop.replicas - 1)
        served = all(self.by_replica.get(replica, 0) > 0 for replica in survivors)
        everyone = self.users_served == self.loop.integrity.users
        return self.loop.integrity.met and served and everyone


def _fleet(per_replica: Sequence[Sequence[httpx.AsyncClient]], replicas: int) -> Fleet:
    """User u's clients of the first `replicas` replicas."""
    return [list(clients) for clients in zip(*per_replica[:replicas], strict=True)]


async def _marked(servers: Sequence[Server], measuring: asyncio.Event) -> _Mark:
    await measuring.wait()
    return _Mark.now(servers)


async def loop(
    servers: Sequence[Server],
    per_replica: Sequence[Sequence[httpx.AsyncClient]],
    replicas: int,
    args: argparse.Namespace,
    prefix: str,
) -> Loop:
    """The closed loop over the first `replicas` replicas, then its integrity check."""
    used, tally, measuring = servers[:replicas], _Tally(), asyncio.Event()
    began = asyncio.create_task(_marked(used, measuring))
    await _run_for(_fleet(per_replica, replicas), prefix, tally, args.duration, measuring)
    since, until = await began, _Mark.now(used)
    integrity = await _integrity(tally, per_replica[0], args.postgres, prefix)
    return Loop(
        replicas, _latency(tally, since, until), tally.errors, integrity, _other_cores(since, until)
    )


async def _kill_later(
    victim: Server, survivors: Sequence[Server], measuring: asyncio.Event, after: float
) -> tuple[_Mark, _Mark]:
    """When the loop began, and when `victim` died `after` seconds later (with the CPU of
    the survivors only: the victim's is gone with it)."""
    began = await _marked(survivors, measuring)
    await asyncio.sleep(after)
    await victim.kill()
    return began, _Mark.now(survivors)


async def kill(
    servers: Sequence[Server],
    per_replica: Sequence[Sequence[httpx.AsyncClient]],
    args: argparse.Namespace,
    prefix: str,
) -> Kill:
    """The spread loop, with the last replica killed a third of the way through."""
    victim, survivors = servers[-1], servers[:-1]
    tally, measuring = _Tally(), asyncio.Event()
    killer = asyncio.create_task(
        _kill_later(victim, survivors, measuring, args.duration * KILL_AFTER)
    )
    await _run_for(_fleet(per_replica, len(servers)), prefix, tally, args.duration, measuring)
    began, killed = await killer
    ended = _Mark.now(survivors)
    window = [s for s in tally.samples if s.at >= killed.at]
    everything = _latency(tally, began, ended)
    integrity = await _integrity(tally, per_replica[0], args.postgres, prefix)
    assert victim.process is not None
    return Kill(
        loop=Loop(len(servers), everything, tally.errors, integrity, _other_cores(killed, ended)),
        killed_at_s=killed.at - began.at,
        window=_latency(tally, killed, ended),
        by_replica=dict(sorted(Counter(s.replica for s in window).items())),
        users_served=len({s.user for s in window}),
        failed_over=tally.failed_over,
        replayed=tally.replayed,
        victim_exit=victim.process.returncode,
    )


# -- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    replicas: int
    users: int
    duration: float
    startup_s: float
    load: tuple[float, float]
    """The machine's 1-minute load average when the run began and ended (other work
    shares the cores)."""
    database: str
    one: Loop
    spread: Loop
    kill: Kill

    @property
    def speedup(self) -> float:
        return self.spread.latency.throughput / max(1e-9, self.one.latency.throughput)

    @property
    def all_met(self) -> bool:
        return self.one.integrity.met and self.spread.integrity.met and self.kill.met


def _database(dsn: str) -> str:
    """host:port/dbname of `dsn`, without credentials, for the report."""
    parts = psycopg.conninfo.conninfo_to_dict(dsn)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


async def _phases(
    servers: Sequence[Server], args: argparse.Namespace, run_id: str
) -> tuple[Loop, Loop, Kill]:
    limit = args.duration + 120
    async with AsyncExitStack() as stack:
        per_replica = [
            await stack.enter_async_context(open_clients(server, args.users)) for server in servers
        ]
        one = await phase(
            "one replica", loop(servers, per_replica, 1, args, f"{run_id}-one"), limit
        )
        spread = await phase(
            f"{len(servers)} replicas",
            loop(servers, per_replica, len(servers), args, f"{run_id}-spread"),
            limit,
        )
        killed = await phase(
            f"{len(servers)} replicas, one killed",
            kill(servers, per_replica, args, f"{run_id}-kill"),
            limit,
        )
    return one, spread, killed


async def run(args: argparse.Namespace, workdir: Path) -> Figures:
    load = os.getloadavg()[0]
    servers = await _replicas(workdir, args.replicas, args.postgres)
    try:
        startup = await phase(f"start {args.replicas} replicas", _start_all(servers), 120)
        one, spread, killed = await _phases(servers, args, f"rep{uuid.uuid4().hex[:8]}")
    finally:
        await _stop_all(servers)
    return Figures(
        args.replicas,
        args.users,
        args.duration,
        startup,
        (load, os.getloadavg()[0]),
        _database(args.postgres),
        one,
        spread,
        killed,
    )


def main(args: argparse.Namespace) -> int:
    """Run the replicas benchmark, print the report and write it to `args.output`."""
    with tempfile.TemporaryDirectory(prefix="soni-replicas-") as scratch:
        figures = asyncio.run(run(args, Path(scratch)))
    publish(
        "load-test-replicas.md.j2",
        args.output,
        f=figures,
        targets=TARGETS,
        cores=os.cpu_count(),
        command=command("scripts/loadtest.py", sys.argv[1:], dsn=args.postgres),
    )
    return 0 if figures.all_met else 1
