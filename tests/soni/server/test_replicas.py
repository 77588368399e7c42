"""Replicas: several `soni serve` processes on the test PostgreSQL, one user's turns spread
over them. A conversation must stay one line of turns whichever replica runs each turn,
also when turns arrive at several replicas at once or a replica dies mid-turn."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psycopg
import pytest

from soni.examples.banking import DOMAIN as BANKING
from tests.postgres import needs_postgres, postgres_dsn
from tests.soni.server.conftest import Served, launch, use_postgres
from tests.soni.server.test_lifecycle import CLEAN_EXIT, assert_clean_log, slow_check_limits
from tests.soni.server.test_transport import chat, turn_of


def postgres_replicas(domain: Path, tmp_path: Path, count: int) -> list[Served]:
    """`count` servers of `domain` sharing the test PostgreSQL, as replicas would (the
    banking example's actions share one bank in `tmp_path`)."""
    config = use_postgres(domain, postgres_dsn())
    args = ["-m", "soni", "serve", "--config", str(config), "--port", "{port}"]
    bank = {"SONI_BANKING_DB": str(tmp_path / "bank.db")}
    return [
        launch([*args, "--insecure-no-auth"], tmp_path / f"replica-{n}.log", bank)
        for n in range(count)
    ]


@contextmanager
def replicas_of(domain: Path, tmp_path: Path, count: int) -> Iterator[list[Served]]:
    """Ready replicas, stopped cleanly afterwards."""
    replicas = postgres_replicas(domain, tmp_path, count)
    try:
        for replica in replicas:
            replica.wait_ready()
        yield replicas
    finally:
        for replica in replicas:
            assert replica.stop() in CLEAN_EXIT
    for replica in replicas:
        assert_clean_log(replica)


@pytest.fixture
def banking(tmp_path: Path) -> Path:
    """A copy of the banking example (`soni/examples/banking`)."""
    target = tmp_path / "banking"
    shutil.copytree(BANKING.parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def state_of(served: Served, user: str) -> dict[str, object]:
    reply = httpx.get(f"{served.url}/state/{user}", timeout=10)
    assert reply.status_code == 200, reply.text
    state: dict[str, object] = reply.json()
    return state


def forks(user: str) -> list[tuple[str | None, int]]:
    """Checkpoints of `user`'s thread that share a parent: (parent, how many), if forked."""
    with psycopg.connect(postgres_dsn()) as connection:
        rows = connection.execute(
            "select parent_checkpoint_id, count(*) from checkpoints where thread_id = %s "
            "group by checkpoint_ns, parent_checkpoint_id having count(*) > 1",
            (user,),
        ).fetchall()
    return [(parent, int(count)) for parent, count in rows]


def user_id() -> str:
    return f"pg-{uuid.uuid4().hex}"


# -- one conversation, several replicas ---------------------------------------------------------


TRANSFER = (
    ("send money", "Who should receive it?", {}),
    ("Bob", "How much would you like to send?", {"beneficiary": "Bob"}),
    ("20", "Send 20.00 to Bob from checking?", {"beneficiary": "Bob", "amount": 20}),
    ("yes", "Done, 20.00 sent to Bob.", {}),
)
"""The banking example's transfer: each message, the start of its reply, the slots after."""


@needs_postgres
def test_a_conversation_alternating_replicas_carries_its_turns_and_slots(
    banking: Path, tmp_path: Path
) -> None:
    user = user_id()
    with replicas_of(banking, tmp_path, 2) as replicas:
        for turn, (message, reply, slots) in enumerate(TRANSFER, start=1):
            answer = chat(replicas[turn % 2], user, message)
            assert answer.status_code == 200, answer.text
            assert answer.json()["turn"] == turn
            assert answer.json()["reply"].startswith(reply)
            assert slots.items() <= answer.json()["slots"].items()
            seen = [state_of(replica, user) for replica in replicas]
            assert seen[0] == seen[1]
            assert seen[0]["turn"] == turn
        assert answer.json()["active_flow"] is None  # the transfer ran to its end
        assert forks(user) == []


def _at_once(sends: Sequence[tuple[Served, str]], user: str) -> list[httpx.Response]:
    """Each (replica, message) sent by its own thread, all released together."""
    start = threading.Barrier(len(sends))

    def send(replica: Served, message: str) -> httpx.Response:
        start.wait()
        return chat(replica, user, message)

    with ThreadPoolExecutor(len(sends)) as pool:
        return list(pool.map(lambda pair: send(*pair), sends))


@needs_postgres
def test_messages_sent_at_once_to_two_replicas_run_one_after_the_other(
    banking: Path, tmp_path: Path
) -> None:
    """Four messages of one user at the same moment, two to each replica: four turns, whose
    replies are those of the same messages sent one by one in the order of their turns."""
    messages = ("send money", "Bob", "what is my balance", "savings")
    user, witness = user_id(), user_id()
    with replicas_of(banking, tmp_path, 2) as replicas:
        sends = [(replicas[n % 2], message) for n, message in enumerate(messages)]
        answers = _at_once(sends, user)
        assert [a.status_code for a in answers] == [200] * len(messages)
        by_turn = sorted(
            (a.json()["turn"], message) for a, message in zip(answers, messages, strict=True)
        )
        assert [turn for turn, _ in by_turn] == [1, 2, 3, 4]
        replies = {a.json()["turn"]: a.json()["reply"] for a in answers}
        one_by_one = [chat(replicas[0], witness, message).json() for _, message in by_turn]
        assert [answer["reply"] for answer in one_by_one] == [replies[t] for t in range(1, 5)]
        assert state_of(replicas[1], user) == {**state_of(replicas[0], witness), "user_id": user}
        assert forks(user) == []


# -- retries and failures across replicas -------------------------------------------------------


@needs_postgres
def test_a_retry_sent_to_another_replica_is_answered_from_the_first(
    domain_copy: Path, tmp_path: Path
) -> None:
    key = str(uuid.uuid4())
    user = user_id()
    with replicas_of(domain_copy, tmp_path, 2) as replicas:
        first = chat(replicas[0], user, "send money", key)
        retry = chat(replicas[1], user, "send money", key)
        assert (first.json()["turn"], retry.json()["turn"]) == (1, 1)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == first.json()
        assert chat(replicas[1], user, "Bob", str(uuid.uuid4())).json()["turn"] == 2
        assert turn_of(replicas[0], user) == 2


@needs_postgres
def test_a_replica_killed_mid_turn_releases_the_user_to_the_others(
    domain_copy: Path, tmp_path: Path
) -> None:
    slow_check_limits(domain_copy)  # "transfer 40 to Bob" holds the user's turn for 1 s
    doomed, survivor = postgres_replicas(domain_copy, tmp_path, 2)
    user = user_id()
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
        assert forks(user) == []
    finally:
        if doomed.process.poll() is None:
            doomed.process.kill()
        doomed.process.wait()
        assert survivor.stop() in CLEAN_EXIT
