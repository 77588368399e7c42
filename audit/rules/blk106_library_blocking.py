"""BLK106: a call from a coroutine into an installed library that blocks inside it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import CALL_GRAPH, FIXES
from audit.rules.base import Rule
from audit.rules.blocking_chain import OFFLOAD, chain_findings

if TYPE_CHECKING:
    from audit.interprocedural.context import ProjectContext, ProjectFinding


class LibraryBlockingCall(Rule):
    """
    ## What it does
    With `check --dependencies` (or `dependencies = true`), flags a call, inside
    `async def`, of an installed library's function, method or constructor that blocks
    inside the library on its ordinary path: `AsyncOpenAI()` building an SSL context that
    loads the CA bundle from disk, a client constructor reading JSON files shipped in its
    package. The message names the library and its version and carries the chain down to
    the blocking call; every hop, in the library's own files, is a related location.

    ## Why is this bad?
    These stalls are invisible in the project's code: the coroutine calls an innocent
    looking constructor, and the blocking happens three modules deep in a dependency. Run
    time detectors find them one log at a time, in production.

    ## How it works
    The environment read is, in order: `--python PATH` (an interpreter or an environment
    directory), `VIRTUAL_ENV`, a `.venv` beside the configuration file, the interpreter
    running soni-audit; the summary line names it. It is asked once, as a subprocess, for
    its import path and distributions (nothing of the environment is imported). The names
    the project calls are followed into the installed modules defining them (through
    `__init__` re-exports, constructors to `__init__`, methods to base classes), and only
    the modules met on the way are analysed, with the same per-file pass as project code:
    offloaded calls, non-blocking sockets, constant branches, lazy iterators and done
    futures are understood inside libraries too. Code that is not Python (C extensions)
    ends a chain; the catalogue's knowledge of such APIs (`ssl.SSLContext`, `sqlite3`)
    still applies at the call into them. Findings inside library files are never
    reported, only the project's call.

    A chain that blocks only under a condition the call does not decide (a cache miss, an
    argument whose value is unknown) is not reported: BLK105 (opt-in) reports those, as
    for project code.

    Summaries are computed once per distribution version and engine build and kept in the
    user cache directory (`$XDG_CACHE_HOME/soni-audit`, else `~/.cache/soni-audit`);
    `--no-cache` keeps them in memory. A library file that cannot be parsed is skipped and
    reported once per distribution as AUD900 on the project's first import of it.

    ## Examples
    The examples below are checked without an installed library, where this rule finds
    nothing by design; its behaviour is verified against small distributions installed
    into a virtual environment (`tests/audit/test_dependencies.py`).

    ## Arguments
    A call is judged with its arguments, as for BLK103: a library's branch tests on its
    parameters are decided by what the project passes and the defaults it leaves, through
    `**kwargs`, `super(cls, self)` with the class passed in (as generated SDK clients do,
    also `super().__thisclass__`) and `if TYPE_CHECKING:` aliases. `AsyncOpenAI()` leaves
    `http_client=None`, so openai builds an httpx client whose `verify=True` branch loads
    the CA bundle; `httpx.AsyncClient(verify=False)` takes no such branch.

    ## Limits
    A method called on a local built from an imported class (`store = Store();
    store.fetch()`) is followed only when the receiver's type is written (`store: Store`).
    Methods of values returned by unannotated helpers end a chain, and so do values that
    are not constants, parameters passed on, classes or objects made by the caller (a
    module-level default such as `timeout=DEFAULT_TIMEOUT` is unknown).

    ## Precedence
    A call that BLK100 to BLK105 reports is not reported again here.

    ## Options
    ```toml
    [tool.soni-audit]
    dependencies = true         # same as --dependencies
    python = ".venv/bin/python" # same as --python
    nonblocking = ["httpx._config.create_ssl_context"]  # trusted: silences its callers
    ```
    """

    FIX = OFFLOAD

    code = "BLK106"
    name = "blocks-inside-library"
    summary = "Call into an installed library that blocks inside it, inside `async def`"
    needs = CALL_GRAPH | FIXES
    yields_to = frozenset({"BLK100", "BLK101", "BLK102", "BLK103", "BLK104", "BLK105"})

    def check_project(self, project: ProjectContext) -> Iterator[ProjectFinding]:
        return chain_findings(self.code, project, conditional=False, libraries=True)

    VALID = (
        """
        import httpx

        async def fetch(url):
            async with httpx.AsyncClient() as client:  # not installed here: not followed
                return await client.get(url)
        """,
        """
        def read_settings(path):
            with open(path) as handle:
                return handle.read()

        async def startup():
            return read_settings("settings.toml")  # project code: BLK103 reports it
        """,
    )
