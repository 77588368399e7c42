"""BLK102: a sync method called on the event loop where an async twin exists."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import CALL_GRAPH, FIXES, LOOP_CALLS
from audit.interprocedural.context import CallRef, Located, ProjectContext, ProjectFinding
from audit.interprocedural.project import twin_names
from audit.rules.base import FixExample, RawFinding, Rule, fixer

if TYPE_CHECKING:
    from audit.analysis.context import FileContext
    from audit.analysis.model import CallSite
    from audit.analysis.values import Instance
    from audit.catalogue import Catalogue
    from audit.fixes.plan import Planned


class SyncTwinCall(Rule):
    """
    ## What it does
    Flags `x.m(...)`, not awaited, inside `async def` when `x` has an async twin of `m`
    (`am`, `m_async` or `async_m`): because `x`'s class defines it (a project class, through
    its bases, or a library class listed in the catalogue, such as LangGraph checkpointers
    and compiled graphs), or because the surrounding code itself probes for it with
    `hasattr(x, "am")` and falls back to the sync method.

    For a project class, only a sync method that itself blocks on its ordinary path (what
    BLK103 would report through it) is a finding: an in-memory store whose `delete` pops a
    dict entry has an async twin for interface's sake, and calling `delete` costs nothing.
    Library types are trusted to the catalogue, and a `hasattr` probe on an object of
    unknown type stays a finding: the code itself says some of those objects are async.

    ## Why is this bad?
    The sync twin does the same I/O without yielding: `checkpointer.delete(config)` in a
    coroutine blocks the loop (and LangGraph's async savers refuse sync calls on the loop
    thread). A fallback for objects without the async method is exactly the path nobody
    tests until it stalls production. Await the twin, or run the fallback in a thread with
    `await asyncio.to_thread(x.m, ...)`.

    ## Fix
    Safe where the receiver's type is known to have the twin (the catalogue, the project's
    own classes): `x.delete(k)` becomes `await x.adelete(k)`. Where the only evidence is a
    `hasattr(x, "adelete")` probe, the call sits in the fallback for objects without the
    twin, so the fix is the unsafe `await asyncio.to_thread(x.delete, k)`, never a call of
    the twin.
    """

    code = "BLK102"
    name = "sync-twin-in-async-function"
    summary = "Sync method called where an async twin exists"
    needs = LOOP_CALLS | CALL_GRAPH | FIXES

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        if not ctx.has_async:
            return
        probed = ctx.probes
        for call in ctx.loop_calls:
            method, receiver = call.method, call.receiver
            if call.awaited or method is None or receiver is None:
                continue
            func = ctx.source(call.node.func)
            twin, fix = None, None
            instance = call.instance
            if instance is not None:
                twin = _catalogue_twin(ctx.catalogue, instance, method)
                why = f"`{instance.type}` has it"
                if twin is not None:
                    fix = fixer(ctx).await_twin(call.site, twin, f"await `{twin}` instead")
            probes = probed.get(call.function or "")
            if probes:
                written = ctx.source(receiver, limit=200)
                probed_twin = next((t for t in twin_names(method) if (written, t) in probes), None)
                if probed_twin is not None:
                    # The probe's fallback is where the twin is missing: never call it there.
                    twin, why = probed_twin, f"the code probes for `{probed_twin}` with hasattr"
                    fix = fixer(ctx).offload(call.site, f"run `{func}()` in a worker thread")
            if twin is not None:
                yield RawFinding(
                    self.code,
                    call.node,
                    f"`{func}()` is the sync twin of `{twin}` ({why}); use "
                    f"`await {ctx.source(receiver)}.{twin}(...)` or "
                    f"`await asyncio.to_thread({func}, ...)`",
                    call.function,
                    fix=fix,
                )

    def check_project(self, project: ProjectContext) -> Iterator[ProjectFinding]:
        graph = project.project
        for located, edge in graph.async_calls():
            callee = graph.resolve(edge.callee) if not edge.awaited else None
            if callee is None or callee not in graph.blocked:
                continue  # a twin that does no blocking I/O (an in-memory store) is harmless
            twin = graph.async_twin(callee)
            caller_name = located.facts.qualname.rpartition(".")[2]
            if twin is None or twin.rpartition(".")[2] == caller_name:
                continue  # an async twin (or its override) may delegate to its sync version
            site = CallRef(located.path, edge.call)
            message = functools.partial(
                _project_twin_message, site, graph.display(callee), graph.display(twin)
            )
            twin_name = twin.rpartition(".")[2]
            yield ProjectFinding(
                self.code,
                site,
                message,
                graph.display(located.facts.qualname),
                fix=functools.partial(_await_project_twin, twin_name),
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
        import os

        class Store:
            def delete(self, key):
                os.remove(key)

            async def adelete(self, key): ...

        async def forget(store: Store, key):
            store.delete(key)  # error
        """,
        """
        import sqlite3

        class Base:
            async def save_async(self): ...

        class Model(Base):
            def save(self):
                sqlite3.connect("app.db").execute("insert into t default values")

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
        class MemoryStore:
            def __init__(self):
                self.data = {}

            def delete(self, key):
                self.data.pop(key, None)

            async def adelete(self, key):
                self.delete(key)

        async def forget(store: MemoryStore, key):
            store.delete(key)  # in memory: the sync twin blocks nothing
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

    FIXED = (
        FixExample(
            """
            from langgraph.checkpoint.base import BaseCheckpointSaver

            async def wipe(saver: BaseCheckpointSaver, thread_id):
                saver.delete_thread(thread_id)
            """,
            """
            from langgraph.checkpoint.base import BaseCheckpointSaver

            async def wipe(saver: BaseCheckpointSaver, thread_id):
                await saver.adelete_thread(thread_id)
            """,
        ),
        FixExample(
            """
            import os

            class Store:
                def delete(self, key):
                    os.remove(key)

                async def adelete(self, key): ...

            async def forget(store: Store, key):
                store.delete(key)
            """,
            """
            import os

            class Store:
                def delete(self, key):
                    os.remove(key)

                async def adelete(self, key): ...

            async def forget(store: Store, key):
                await store.adelete(key)
            """,
        ),
        FixExample(
            """
            class Runtime:
                async def reset_state(self, config):
                    if hasattr(self.checkpointer, "adelete"):
                        await self.checkpointer.adelete(config)
                    else:
                        self.checkpointer.delete(config)
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
            unsafe=True,
        ),
    )


def _await_project_twin(twin: str, ctx: FileContext, site: CallSite) -> Planned:
    return fixer(ctx).await_twin(site, twin, f"await `{twin}` instead")


def _project_twin_message(site: CallRef, sync: str, twin: str, where: Located) -> str:
    twin_name = twin.rpartition(".")[2]
    return (
        f"`{where.written(site)}()` calls the sync `{sync}` although `{twin}` exists; "
        f"use `await {where.receiver(site)}.{twin_name}(...)`"
    )


def _catalogue_twin(catalogue: Catalogue, instance: Instance, method: str) -> str | None:
    """The async twin of `method` that the catalogue lists for the receiver's type."""
    if instance.local:
        return None
    blocking_type = catalogue.type_named(instance.type)
    if blocking_type is None:
        return None
    return next((t for t in twin_names(method) if t in blocking_type.async_methods), None)
