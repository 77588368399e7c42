"""Where the CPU of a soni turn goes, measured in one process, side by side in one run.

Layers, each the median of --repeats runs of --users concurrent users talking through the
banking conversation (`scripts/harness/conversation.py`), after a warm-up:

1. langgraph  the floor LangGraph sets: a one-node graph with a trivial node and an
              `InMemorySaver`, one `ainvoke` per turn (`durability="exit"`, as soni).
2. memory     `RuntimeLoop.process_message` with the memory checkpointer.
3. sqlite     the same with the SQLite checkpointer (the server's default).
4. postgres   the same on PostgreSQL, with --postgres DSN (turn locks included).

CPU is the whole process's (all threads: the checkpointer's and the actions' database
threads count). No HTTP: `scripts/loadtest.py` measures the server around it.

    python scripts/bench_turn.py
    python scripts/bench_turn.py --postgres postgresql://... --output reports/turn-cost.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from harness.conversation import CONVERSATION
from harness.report import command, publish
from soni.config.models import PersistenceSettings
from soni.examples.banking import DOMAIN
from soni.runtime import RuntimeLoop

Round = Callable[[str], Awaitable[None]]
"""One user's conversation, given a unique user id."""


@dataclass(frozen=True)
class Layer:
    name: str
    what: str
    cpu_ms: float
    """Process CPU per turn, median over the repeats."""
    spread_ms: tuple[float, float]
    """The lowest and highest of the repeats."""


async def _measure(talk: Round, users: int, repeats: int) -> tuple[float, tuple[float, float]]:
    turns = users * len(CONVERSATION)
    await asyncio.gather(*(talk(f"warm-{n}-{uuid.uuid4()}") for n in range(users)))
    runs = []
    for _ in range(repeats):
        began = time.process_time()
        await asyncio.gather(*(talk(f"user-{n}-{uuid.uuid4()}") for n in range(users)))
        runs.append((time.process_time() - began) / turns * 1000)
    return statistics.median(runs), (min(runs), max(runs))


class _Floor(TypedDict, total=False):
    inbox: str
    outcome: str


async def _answer(state: _Floor) -> _Floor:
    return {"outcome": state["inbox"]}


async def langgraph_floor(users: int, repeats: int) -> Layer:
    builder = StateGraph(_Floor)
    builder.add_node("turn", _answer)
    builder.add_edge(START, "turn")
    builder.add_edge("turn", END)
    graph = builder.compile(checkpointer=InMemorySaver())

    async def talk(user: str) -> None:
        for message in CONVERSATION:
            config: RunnableConfig = {"configurable": {"thread_id": user}}
            await graph.ainvoke({"inbox": message}, config, durability="exit")

    median, spread = await _measure(talk, users, repeats)
    return Layer("langgraph", "one trivial node, InMemorySaver", median, spread)


async def soni_layer(
    name: str, persistence: PersistenceSettings, users: int, repeats: int
) -> Layer:
    async with RuntimeLoop(DOMAIN, persistence=persistence) as runtime:

        async def talk(user: str) -> None:
            for message in CONVERSATION:
                await runtime.process_message(user, message, idempotency_key=str(uuid.uuid4()))

        median, spread = await _measure(talk, users, repeats)
    what = f"RuntimeLoop, {persistence.backend} checkpointer, banking actions"
    return Layer(name, what, median, spread)


async def run(args: argparse.Namespace, scratch: Path) -> list[Layer]:
    os.environ["SONI_BANKING_DB"] = str(scratch / "bank.db")
    layers = [await langgraph_floor(args.users, args.repeats)]
    memory = PersistenceSettings(backend="memory")
    layers.append(await soni_layer("memory", memory, args.users, args.repeats))
    sqlite = PersistenceSettings(backend="sqlite", path=str(scratch / "state.db"))
    layers.append(await soni_layer("sqlite", sqlite, args.users, args.repeats))
    if args.postgres:
        postgres = PersistenceSettings(backend="postgres", dsn=args.postgres)
        layers.append(await soni_layer("postgres", postgres, args.users, args.repeats))
    return layers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--repeats", type=int, default=5, help="measured runs per layer")
    parser.add_argument("--postgres", metavar="DSN", help="also measure on this PostgreSQL")
    parser.add_argument("--output", type=Path, help="write the markdown report here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soni-bench-turn-") as scratch:
        layers = asyncio.run(run(args, Path(scratch)))
    publish(
        "turn-cost.md.j2",
        args.output,
        layers=layers,
        users=args.users,
        repeats=args.repeats,
        turns=args.users * len(CONVERSATION),
        command=command("scripts/bench_turn.py", sys.argv[1:], dsn=args.postgres),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
