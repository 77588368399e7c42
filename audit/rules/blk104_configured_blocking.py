"""BLK104: a callable the project configured as blocking, called on the event loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import FIXES, LOOP_CALLS
from audit.core.settings import AnalysisSettings
from audit.rules.base import FixExample, RawFinding, Rule, fixer

if TYPE_CHECKING:
    from audit.analysis.context import FileContext

REASON = "is configured as blocking in [tool.soni-audit]"


class ConfiguredBlockingCall(Rule):
    """
    ## What it does
    Flags calls, inside `async def`, of callables listed under
    `[tool.soni-audit.blocking-callables]` in `pyproject.toml`: functions by qualified name
    (`"mylib.db.query"`) or methods as `"Type.method"` (`"mylib.Client.fetch"`), matched on
    receivers whose type is known the same way as for BLK101. The value is the alternative to
    suggest:

    ```toml
    [tool.soni-audit.blocking-callables]
    "mylib.db.query" = "`await mylib.db.aquery(...)`"
    "mylib.Client.fetch" = "`await client.afetch(...)`"
    ```

    ## Why is this bad?
    Every project has blocking helpers of its own or from in-house libraries that no
    catalogue knows about. Naming them once makes every call on the event loop visible.

    ## Fix
    Unsafe: the call moves to a worker thread (`await asyncio.to_thread(f, ...)`), like
    BLK100's calls without a drop-in replacement.

    ## Precedence
    A callable that is also in the built-in catalogue is reported once, as BLK100 or
    BLK101; with those rules disabled, it is reported here.
    """

    code = "BLK104"
    name = "configured-blocking-call"
    summary = "User-configured blocking callable called inside `async def`"
    needs = LOOP_CALLS | FIXES
    yields_to = frozenset({"BLK100", "BLK101"})
    EXAMPLE_SETTINGS = AnalysisSettings(
        blocking={
            "mylib.db.query": "`await mylib.db.aquery(...)`",
            "mylib.Client.fetch": "`await client.afetch(...)`",
            "legacy.sync_helper": "",
        }
    )

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        if not ctx.settings.blocking:
            return
        for call in ctx.loop_calls:
            blocking = call.blocking
            if blocking is None or blocking.configured is None:
                continue
            spelled = ctx.source(call.node.func)
            shown = "" if spelled == blocking.callee else f" (`{blocking.callee}`)"
            advice = f"; use {blocking.configured}" if blocking.configured else ""
            yield RawFinding(
                self.code,
                call.node,
                f"`{spelled}()`{shown} {REASON}{advice}",
                call.function,
                fix=fixer(ctx).offload(call.site, f"run `{spelled}()` in a worker thread"),
            )

    VALID = (
        """
        from mylib import db

        def sync_path():
            return db.query("select 1")
        """,
        """
        from mylib import db

        async def handler():
            return await db.aquery("select 1")
        """,
        """
        import mylib

        async def handler(client: mylib.Client):
            return await client.afetch("/")
        """,
    )

    INVALID = (
        """
        from mylib import db
        from mylib.db import query as q

        async def handler():
            db.query("select 1")  # error
            q("select 1")  # error
        """,
        """
        import mylib

        async def handler(client: mylib.Client):
            return client.fetch("/")  # error
        """,
        """
        import mylib

        async def handler():
            return mylib.Client().fetch("/")  # error
        """,
        """
        from legacy import sync_helper

        async def handler():
            sync_helper()  # error
        """,
    )

    FIXED = (
        FixExample(
            """
            from mylib import db

            async def handler():
                return db.query("select 1")
            """,
            """
            import asyncio
            from mylib import db

            async def handler():
                return await asyncio.to_thread(db.query, "select 1")
            """,
            unsafe=True,
        ),
    )
