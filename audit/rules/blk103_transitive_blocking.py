"""BLK103: a call that blocks the event loop through the project's own sync functions."""

from __future__ import annotations

from collections.abc import Iterator

from audit.interprocedural.context import CallRef, PendingFinding, ProjectContext
from audit.rules.base import Rule


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

    ## Options
    ```toml
    [tool.soni-audit]
    nonblocking = ["app.cache.read_cached"]  # trusted: silences every caller
    ```
    """

    code = "BLK103"
    name = "transitive-blocking-call"
    summary = "Project function that blocks transitively called inside `async def`"

    def check_project(self, project: ProjectContext) -> Iterator[PendingFinding]:
        graph = project.project
        for located, edge in graph.async_calls():
            callee = graph.sync_callee(edge)
            blocked = graph.blocked.get(callee) if callee is not None else None
            if callee is None or blocked is None:
                continue
            if not edge.awaited and graph.async_twin(callee) is not None:
                continue  # BLK102 names the async twin to use instead
            caller = graph.display(located.facts.qualname)
            target = blocked.leaf.target.removeprefix("builtins.")
            chain = (caller, *(graph.display(f) for f in blocked.chain), target)
            leaf = CallRef(graph.functions[blocked.chain[-1]].path, blocked.leaf.call)
            yield PendingFinding(
                self.code,
                CallRef(located.path, edge.call),
                f"`{{call}}()` blocks the event loop: {' -> '.join(chain)} "
                f"(`{target}` at {{leaf}} {blocked.leaf.reason}); run it with "
                f"`await asyncio.to_thread({{call}}, ...)` or make the chain async "
                f"(for the leaf: {blocked.leaf.alternative})",
                caller,
                chain,
                {"leaf": leaf},
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
    )
