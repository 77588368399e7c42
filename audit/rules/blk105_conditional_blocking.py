"""BLK105: a call that may block the event loop on some paths through the project's own
sync functions (opt-in)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from audit.analysis.facts import CALL_GRAPH, FIXES
from audit.rules.base import FixExample, Rule
from audit.rules.blocking_chain import OFFLOAD, chain_findings

if TYPE_CHECKING:
    from audit.interprocedural.context import ProjectContext, ProjectFinding


class ConditionalBlockingCall(Rule):
    """
    ## What it does
    Flags a call, inside `async def`, of a project function that blocks only on some of its
    paths: somewhere down the chain the blocking call, or a call leading to it, depends on
    a condition (an `if`, an `except` handler, a loop that may not run, an early `return`
    before it). The message carries the chain and the first such condition:
    `load(...) may block ...; only on some paths: in load, after the early return under
    if cached is not None`.

    This rule is opt-in: it runs only when its exact code is selected
    (`--select BLK105`, `extend-select = ["BLK105"]`); `ALL` and `BLK` do not enable it.

    ## Why is this bad?
    A condition that is false on the ordinary path hides real stalls as well as impossible
    ones: a cache miss, a retry after an error, the first call that fills a lazy global all
    block the loop when they happen, and they happen in production. Conditions that never
    hold in a coroutine (code for a forked child, a flag the caller sets to skip the I/O)
    are why this is not part of the default set: BLK103 reports only chains that block on
    the ordinary path.

    Conditions on the callee's parameters are decided by what the call passes (see
    BLK103): a call whose arguments rule out every blocking branch is not reported, and
    one whose arguments make every path block is BLK103's (BLK106's inside a library).

    ## Precedence
    A call that BLK100, BLK101, BLK102, BLK103 or BLK104 reports is not reported again here.
    """

    code = "BLK105"
    name = "may-block-on-some-paths"
    summary = "Project function that blocks on some paths called inside `async def`"
    needs = CALL_GRAPH | FIXES
    opt_in: ClassVar[bool] = True
    yields_to = frozenset({"BLK100", "BLK101", "BLK102", "BLK103", "BLK104"})
    FIX = OFFLOAD

    def check_project(self, project: ProjectContext) -> Iterator[ProjectFinding]:
        return chain_findings(self.code, project, conditional=True, libraries=None)

    INVALID = (
        """
        import json

        def load(path, cached):
            if cached is not None:
                return cached
            with open(path) as handle:
                return json.load(handle)

        async def handler(state):
            return load("state.json", state)  # error: on a cache miss
        """,
        """
        import time

        import requests

        def fetch(url, tries=3):
            for attempt in range(tries):
                try:
                    return requests.get(url, timeout=5)
                except requests.ConnectionError:
                    time.sleep(2**attempt)

        async def handler(url):
            return fetch(url)  # error: the request is in a loop that may not run
        """,
        """
        import subprocess

        def ping(host, tries):
            if tries:
                return ping(host, tries - 1)
            return subprocess.run(["ping", host])

        async def check(host):
            return ping(host, 3)  # error: after the early return
        """,
    )

    VALID = (
        """
        def read_settings(path):
            with open(path) as handle:
                return handle.read()

        async def startup():
            return read_settings("settings.toml")  # BLK103: it always blocks
        """,
        """
        import asyncio, json

        def load(path, cached):
            if cached is not None:
                return cached
            with open(path) as handle:
                return json.load(handle)

        async def handler(state):
            return await asyncio.to_thread(load, "state.json", state)
        """,
        """
        def maybe_load(path=None):
            if path is None:
                return {}
            with open(path) as handle:
                return handle.read()

        async def handler():
            return maybe_load()  # `path` left at None: the file is never opened
        """,
        """
        def describe(value, verbose):
            if verbose:
                return repr(value)
            return str(value)

        async def handler(value):
            return describe(value, False)  # no blocking call on any path
        """,
    )

    FIXED = (
        FixExample(
            """
            import json

            def load(path, cached):
                if cached is not None:
                    return cached
                with open(path) as handle:
                    return json.load(handle)

            async def handler(state):
                return load("state.json", state)
            """,
            """
            import asyncio
            import json

            def load(path, cached):
                if cached is not None:
                    return cached
                with open(path) as handle:
                    return json.load(handle)

            async def handler(state):
                return await asyncio.to_thread(load, "state.json", state)
            """,
            unsafe=True,
        ),
    )
