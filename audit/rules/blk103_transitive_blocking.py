"""BLK103: a call that blocks the event loop through the project's own sync functions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import CALL_GRAPH, FIXES
from audit.rules.base import FixExample, Rule
from audit.rules.blocking_chain import OFFLOAD, chain_findings

if TYPE_CHECKING:
    from audit.interprocedural.context import ProjectContext, ProjectFinding


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
    Each file records its functions, their calls (resolved through imports, `self`/`cls` and
    typed receivers) and their direct blocking calls. The project pass follows calls across
    modules (relative imports, `from x import y as z`, re-exports through `__init__`, `src/`
    layouts, inherited methods) and finds for every sync function the shortest chain to a
    blocking call. Calling a project class runs its `__init__` (or a dataclass's
    `__post_init__`), and methods of instances made, returned or stored by other modules are
    followed through those modules' summaries. Async callees are not followed (their own bodies
    are checked), callables handed to `asyncio.to_thread`/`run_in_executor` are not calls, and a
    name that cannot be resolved is never guessed.

    Only ordinary paths count: every call of the chain, down to the blocking one, is made
    whenever its function runs, not under an `if`, in an `except` handler, in a loop that
    may not run, or after an early `return`. A helper that opens a file only when a flag
    says so, or only in a forked child, does not block here; BLK105 (opt-in) reports
    those chains with the condition. Calling a generator function runs none of its body:
    the chain starts where it is iterated (`for row in rows()`, `list(rows())`). Branches
    that cannot run on the target interpreter (`if sys.version_info < (3, 9):`,
    `if TYPE_CHECKING:`, see `target-version`) are not analysed at all.

    A call is also judged with what it passes: a helper's branch tests on its parameters
    (`if verify is True:`, `if path is None:`, `if not cached:`, `isinstance(p, str)`) are
    decided by the call's arguments and the defaults of those it leaves out, down the
    chain (through `param=param`, `**kwargs` passed on, a local dict of constant keys
    unpacked with `**`, and `super(cls, self)` with the class passed in). `make_client()`
    that leaves `verify=True` blocks when that branch loads certificates;
    `make_client(verify=False)` does not. When every path the arguments leave open blocks
    (`if cafile: load(cafile) else: load_default()`), the call blocks and the message says
    the chain shown is one of them. Platform checks (`sys.platform`, `platform.system()`,
    `os.name`) are decided for `target-platform`.

    Each hop of the chain is a related location of the finding (`related` in the JSON
    output, `relatedLocations` in SARIF): the call in each function that leads to the next,
    down to the blocking call.

    ## Precedence
    A call that BLK100, BLK101, BLK102 or BLK104 reports is not reported again here: where
    the project function has an async twin, BLK102 names the twin to await instead. With
    those rules disabled, the call is reported here.

    ## Options
    ```toml
    [tool.soni-audit]
    nonblocking = ["app.cache.read_cached"]  # trusted: silences every caller
    target-version = "3.11"                  # default: the Python running soni-audit
    ```
    """

    FIX = OFFLOAD

    code = "BLK103"
    name = "transitive-blocking-call"
    summary = "Project function that blocks transitively called inside `async def`"
    needs = CALL_GRAPH | FIXES
    yields_to = frozenset({"BLK100", "BLK101", "BLK102", "BLK104"})

    def check_project(self, project: ProjectContext) -> Iterator[ProjectFinding]:
        return chain_findings(self.code, project, conditional=False)

    INVALID = (
        """
        import ssl

        def make_context(verify=True):
            if verify is True:
                return ssl.create_default_context()
            return None

        async def connect():
            return make_context()  # error: `verify` left at True loads certificates
        """,
        """
        import ssl

        class Controller:
            def __init__(self, host):
                self.host = host
                self.context = ssl.create_default_context()

        async def setup(host):
            return Controller(host)  # error: the constructor loads certificates
        """,
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
            result = subprocess.run(["ping", host])
            if result.returncode and tries:
                return ping(host, tries - 1)
            return result

        async def check(host):
            return ping(host, 3)  # error: recursion does not hide the leaf
        """,
        """
        import os

        def rows(path):
            with open(path) as handle:
                yield from handle

        async def count(path):
            return sum(1 for _ in rows(path))  # error: iterating the generator blocks
        """,
        """
        import time

        class Base:
            def save(self):
                time.sleep(0.1)

        class Audited(Base):
            def save(self):
                super().save()

        async def handle(item: Audited):
            item.save()  # error: through super()
        """,
    )

    VALID = (
        """
        import ssl

        def make_context(verify=True):
            if verify is True:
                return ssl.create_default_context()
            return None

        async def connect():
            return make_context(verify=False)  # the branch that loads cannot run
        """,
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
        """
        import json

        def load(path, cached):
            if cached is not None:
                return cached
            with open(path) as handle:
                return json.load(handle)

        async def handler(state):
            return load("state.json", state)  # BLK105: only on a cache miss
        """,
        """
        def rows(path):
            with open(path) as handle:
                yield from handle

        async def stream(path):
            return rows(path)  # a generator: calling it reads nothing
        """,
        """
        import sys, time

        def legacy_pause():
            if sys.version_info < (3, 8):
                time.sleep(1)

        async def handler():
            legacy_pause()  # the branch cannot run on the target interpreter
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
