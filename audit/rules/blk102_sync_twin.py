"""BLK102: a sync method called on the event loop where an async twin exists."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from audit.analysis.context import FileContext, LoopCall, RawFinding
from audit.analysis.names import string_value
from audit.analysis.resolve import FunctionTarget, MethodTarget
from audit.interprocedural.context import CallRef, PendingFinding, ProjectContext
from audit.interprocedural.project import twin_names
from audit.rules.base import Rule

_PROBES = frozenset({"builtins.hasattr", "builtins.getattr"})


class SyncTwinCall(Rule):
    """
    ## What it does
    Flags `x.m(...)`, not awaited, inside `async def` when `x` has an async twin of `m`
    (`am`, `m_async` or `async_m`): because `x`'s class defines it (a project class, through
    its bases, or a library class listed in the catalogue, such as LangGraph checkpointers
    and compiled graphs), or because the surrounding code itself probes for it with
    `hasattr(x, "am")` and falls back to the sync method.

    ## Why is this bad?
    The sync twin does the same I/O without yielding: `checkpointer.delete(config)` in a
    coroutine blocks the loop (and LangGraph's async savers refuse sync calls on the loop
    thread). A fallback for objects without the async method is exactly the path nobody
    tests until it stalls production. Await the twin, or run the fallback in a thread with
    `await asyncio.to_thread(x.m, ...)`.
    """

    code = "BLK102"
    name = "sync-twin-in-async-function"
    summary = "Sync method called where an async twin exists"

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        if not ctx.has_async:
            return
        probed = self._probes(ctx)
        for call in ctx.loop_calls:
            func = call.node.func
            if call.awaited or not isinstance(func, cst.Attribute):
                continue
            method = func.attr.value
            twin = None
            probes = probed.get(call.function or "")
            if probes:
                receiver = ctx.source(func.value, limit=200)
                twin = next((t for t in twin_names(method) if (receiver, t) in probes), None)
                why = f"the code probes for `{twin}` with hasattr"
            if twin is None and isinstance(call.target, MethodTarget):
                twin = self._catalogue_twin(ctx, call.target)
                why = f"`{call.target.instance.type}` has it"
            if twin is not None:
                yield RawFinding(
                    self.code,
                    call.node,
                    f"`{ctx.source(func)}()` is the sync twin of `{twin}` ({why}); use "
                    f"`await {ctx.source(func.value)}.{twin}(...)` or "
                    f"`await asyncio.to_thread({ctx.source(func)}, ...)`",
                    call.function,
                )

    @staticmethod
    def _probes(ctx: FileContext) -> dict[str, set[tuple[str, str]]]:
        """Per function: the `(receiver, attribute)` pairs probed with hasattr/getattr."""
        probes: dict[str, set[tuple[str, str]]] = {}
        if "hasattr" not in ctx.text and "getattr" not in ctx.text:
            return probes
        for call in ctx.loop_calls:
            if _is_probe(call) and call.function is not None:
                name = string_value(call.node.args[1].value)
                if name is not None:
                    receiver = ctx.source(call.node.args[0].value, limit=200)
                    probes.setdefault(call.function, set()).add((receiver, name))
        return probes

    @staticmethod
    def _catalogue_twin(ctx: FileContext, target: MethodTarget) -> str | None:
        if target.instance.local:
            return None
        blocking_type = ctx.catalogue.type_named(target.instance.type)
        if blocking_type is None:
            return None
        return next(
            (t for t in twin_names(target.method) if t in blocking_type.async_methods), None
        )

    def check_project(self, project: ProjectContext) -> Iterator[PendingFinding]:
        graph = project.project
        for located, edge in graph.async_calls():
            callee = graph.resolve(edge.callee) if not edge.awaited else None
            twin = graph.async_twin(callee) if callee is not None else None
            caller_name = located.facts.qualname.rpartition(".")[2]
            if callee is None or twin is None or twin.rpartition(".")[2] == caller_name:
                continue  # an async twin (or its override) may delegate to its sync version
            twin_name = twin.rpartition(".")[2]
            yield PendingFinding(
                self.code,
                CallRef(located.path, edge.call),
                f"`{{call}}()` calls the sync `{graph.display(callee)}` although "
                f"`{graph.display(twin)}` exists; use `await {{receiver}}.{twin_name}(...)`",
                graph.display(located.facts.qualname),
            )

    INVALID = (
        """
        class Runtime:
            def __init__(self, checkpointer):
                self.checkpointer = checkpointer

            async def reset_state(self, user_id):
                config = {"configurable": {"thread_id": user_id}}
                if hasattr(self.checkpointer, "adelete"):
                    await self.checkpointer.adelete(config)
                else:
                    self.checkpointer.delete(config)  # error: the fallback blocks the loop
        """,
        """
        class Store:
            def delete(self, key): ...
            async def adelete(self, key): ...

        async def forget(store: Store, key):
            store.delete(key)  # error
        """,
        """
        class Base:
            async def save_async(self): ...

        class Model(Base):
            def save(self): ...

            async def handler(self):
                self.save()  # error: the twin is inherited
        """,
        """
        from langgraph.checkpoint.base import BaseCheckpointSaver

        async def wipe(saver: BaseCheckpointSaver, thread_id):
            saver.delete_thread(thread_id)  # error
        """,
    )

    VALID = (
        """
        class Runtime:
            async def reset_state(self, user_id):
                await self.checkpointer.adelete_thread(user_id)
        """,
        """
        import asyncio

        class Runtime:
            async def reset_state(self, config):
                if hasattr(self.checkpointer, "adelete"):
                    await self.checkpointer.adelete(config)
                else:
                    await asyncio.to_thread(self.checkpointer.delete, config)
        """,
        """
        class Store:
            def delete(self, key): ...
            async def adelete(self, key): ...

        def forget(store: Store, key):
            store.delete(key)  # sync code
        """,
        """
        class Cache:
            def get(self, key): ...

        async def lookup(cache: Cache, key):
            return cache.get(key)  # no twin
        """,
        """
        class History:
            def add(self, message): ...
            async def aadd(self, message): ...

        class InMemoryHistory(History):
            def add(self, message): ...

            async def aadd(self, message):
                self.add(message)  # the async twin itself delegating: nothing to await
        """,
    )


def _is_probe(call: LoopCall) -> bool:
    target = call.target
    return (
        isinstance(target, FunctionTarget)
        and target.qualified in _PROBES
        and len(call.node.args) >= 2
    )
