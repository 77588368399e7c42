"""BLK103: a call that blocks the event loop through the project's own sync functions."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.interprocedural.context import CallRef, Hop, Located, ProjectContext, ProjectFinding
from audit.interprocedural.facts import Leaf
from audit.interprocedural.project import Blocked, Project
from audit.rules.base import FixExample, Rule

if TYPE_CHECKING:
    from audit.analysis.context import FileContext
    from audit.analysis.model import CallSite
    from audit.fixes.plan import Planned
from audit.rules.blk104_configured_blocking import REASON as CONFIGURED_REASON


class TransitiveBlockingCall(Rule):
    """
    ## What it does
    Flags a call, inside `async def`, of a project function that is sync and blocks: it
    makes a blocking call itself (anything BLK100, BLK101 or BLK104 would report) or calls
    another project function that does, through any number of modules. The message carries
    the shortest chain and where the blocking call is: `startup -> read_settings -> open`.

    ## Why is this bad?
    Most blocking code in async projects is not written in the coroutine: it hides in a
    small sync helper (`load_config()`, `Store.save()`) that opens a file or runs a query.
    Linters that only look at the coroutine's own calls miss it; the event loop does not.

    ## How it works
    Each file records its functions, their calls (resolved through imports, `self`/`cls`
    and typed receivers) and their direct blocking calls. The project pass follows calls
    across modules (relative imports, `from x import y as z`, re-exports through
    `__init__`, `src/` layouts, inherited methods) and finds for every sync function the
    shortest chain to a blocking call. Async callees are not followed (their own bodies are
    checked), callables handed to `asyncio.to_thread`/`run_in_executor` are not calls, and a
    name that cannot be resolved is never guessed.

    Each hop of the chain is a related location of the finding (`related` in the JSON
    output, `relatedLocations` in SARIF): the call in each function that leads to the next,
    down to the blocking call.

    ## Fix
    Unsafe: the call moves to a worker thread, `helper(a)` becoming
    `await asyncio.to_thread(helper, a)` (the bridge of the async library the module uses).
    Making the chain async is the better repair, and one only its authors can make.

    ## Precedence
    A call that BLK100, BLK101, BLK102 or BLK104 reports is not reported again here: where
    the project function has an async twin, BLK102 names the twin to await instead. With
    those rules disabled, the call is reported here.

    ## Options
    ```toml
    [tool.soni-audit]
    nonblocking = ["app.cache.read_cached"]  # trusted: silences every caller
    ```
    """

    code = "BLK103"
    name = "transitive-blocking-call"
    summary = "Project function that blocks transitively called inside `async def`"
    yields_to = frozenset({"BLK100", "BLK101", "BLK102", "BLK104"})

    def check_project(self, project: ProjectContext) -> Iterator[ProjectFinding]:
        graph = project.project
        for located, edge in graph.async_calls():
            callee = graph.sync_callee(edge)
            blocked = graph.blocked.get(callee) if callee is not None else None
            if callee is None or blocked is None:
                continue
            caller = graph.display(located.facts.qualname)
            names = [graph.display(function) for function in blocked.chain]
            target = blocked.leaf.target.removeprefix("builtins.")
            chain = (caller, *names, target)
            leaf = CallRef(graph.functions[blocked.chain[-1]].path, blocked.leaf.call)
            site = CallRef(located.path, edge.call)
            yield ProjectFinding(
                self.code,
                site,
                functools.partial(_message, site, chain, leaf, blocked.leaf),
                caller,
                chain,
                _hops(graph, blocked, names, target),
                fix=_offload,
            )

    INVALID = (
        """
        def read_settings(path):
            with open(path) as handle:
                return handle.read()

        def load_config():
            return read_settings("settings.toml")

        async def startup():
            return load_config()  # error
        """,
        """
        import sqlite3

        class Store:
            def __init__(self, path):
                self.conn = sqlite3.connect(path)

            def save(self, row):
                self.conn.execute("insert into t values (?)", (row,))

        async def handle(store: Store, row):
            store.save(row)  # error
        """,
        """
        import time

        class Worker:
            def _pause(self):
                time.sleep(0.1)

            async def run(self):
                self._pause()  # error
        """,
        """
        import subprocess

        def ping(host, tries):
            if tries:
                return ping(host, tries - 1)
            return subprocess.run(["ping", host])

        async def check(host):
            return ping(host, 3)  # error: recursion does not hide the leaf
        """,
    )

    VALID = (
        """
        import asyncio

        def read_settings(path):
            with open(path) as handle:
                return handle.read()

        async def startup():
            return await asyncio.to_thread(read_settings, "settings.toml")
        """,
        """
        def read_settings(path):
            with open(path) as handle:
                return handle.read()

        def cli():
            return read_settings("settings.toml")  # sync code may block
        """,
        """
        import aiofiles

        async def read_settings(path):
            async with aiofiles.open(path) as handle:
                return await handle.read()

        async def startup():
            return await read_settings("settings.toml")  # async callee: checked on its own
        """,
        """
        def pure(values):
            return sorted(values)

        async def handler(values):
            return pure(values)
        """,
        """
        from somewhere import helper

        async def handler():
            return helper()  # not a project function: never guessed
        """,
        """
        import time

        class Store:
            def save(self):
                time.sleep(1)

            async def asave(self): ...

        async def handler(store: Store):
            store.save()  # BLK102 names the twin to await (this rule yields to it)
        """,
    )

    FIXED = (
        FixExample(
            """
            def read_settings(path):
                with open(path) as handle:
                    return handle.read()

            async def startup():
                return read_settings("settings.toml")
            """,
            """
            import asyncio
            def read_settings(path):
                with open(path) as handle:
                    return handle.read()

            async def startup():
                return await asyncio.to_thread(read_settings, "settings.toml")
            """,
            unsafe=True,
        ),
    )


def _message(
    site: CallRef, chain: tuple[str, ...], leaf: CallRef, blocking: Leaf, where: Located
) -> str:
    call = where.written(site)
    reason, alternative = _why(blocking)
    return (
        f"`{call}()` blocks the event loop: {' -> '.join(chain)} "
        f"(`{chain[-1]}` at {where.place(leaf)} {reason}); run it with "
        f"`await asyncio.to_thread({call}, ...)` or make the chain async "
        f"(for the leaf: {alternative})"
    )


def _offload(ctx: FileContext, site: CallSite) -> Planned:
    written = ctx.source(site.node.func)
    return ctx.fixer.offload(site, f"run `{written}()` in a worker thread")


def _why(leaf: Leaf) -> tuple[str, str]:
    """Why the leaf blocks and what to use instead, from the catalogue or the project."""
    from audit.catalogue import default_catalogue

    family = default_catalogue().families.get(leaf.family or "")
    if family is not None:
        return family.reason, family.alternative
    return CONFIGURED_REASON, leaf.configured or ""


def _hops(graph: Project, blocked: Blocked, names: list[str], target: str) -> tuple[Hop, ...]:
    """One related location per step down the chain: each function's call of the next,
    then the blocking call."""
    hops = []
    for index, call in enumerate(blocked.calls):
        path = graph.functions[blocked.chain[index]].path
        hops.append(Hop(CallRef(path, call), f"`{names[index]}` calls `{names[index + 1]}`"))
    path = graph.functions[blocked.chain[-1]].path
    reason, _ = _why(blocked.leaf)
    hops.append(
        Hop(CallRef(path, blocked.leaf.call), f"`{names[-1]}` calls `{target}`, which {reason}")
    )
    return tuple(hops)
