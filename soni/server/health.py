"""The liveness report: one entry per component, each with a status and what it saw."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from langchain_core.runnables import RunnableConfig

from soni import __version__
from soni.server.host import Phase, RuntimeHost
from soni.server.loop_lag import LoopLagMonitor
from soni.server.models import Component, HealthResponse, Status

CHECKPOINTER_TIMEOUT_S = 2.0
LAG_DEGRADED_MS = 250.0
_PROBE: RunnableConfig = {"configurable": {"thread_id": "soni-health-probe", "checkpoint_ns": ""}}
_ORDER: tuple[Status, ...] = ("failing", "stopping", "starting", "degraded", "ok")
_PHASE_STATUS: dict[Phase, Status] = {
    Phase.STARTING: "starting",
    Phase.READY: "ok",
    Phase.STOPPING: "stopping",
    Phase.STOPPED: "stopping",
    Phase.FAILED: "failing",
}


def _runtime(host: RuntimeHost) -> Component:
    detail = host.failure if host.phase is Phase.FAILED else f"{host.turns_in_flight} in flight"
    return Component(status=_PHASE_STATUS[host.phase], detail=f"{host.phase.value}: {detail}")


async def checkpointer(host: RuntimeHost) -> Component:
    """A read of a thread nobody uses: it proves the store answers, and how fast."""
    runtime = host.runtime
    if runtime is None:
        return Component(status=_PHASE_STATUS[host.phase], detail="not open")
    saver = runtime.checkpointer
    began = time.perf_counter()
    try:
        async with asyncio.timeout(CHECKPOINTER_TIMEOUT_S):
            await saver.aget_tuple(_PROBE)
    except TimeoutError:
        return Component(status="failing", detail=f"no answer in {CHECKPOINTER_TIMEOUT_S:g} s")
    except Exception as error:
        return Component(status="failing", detail=f"{type(error).__name__}: {error}")
    latency = (time.perf_counter() - began) * 1000
    return Component(status="ok", detail=type(saver).__name__, latency_ms=round(latency, 3))


def _event_loop(lag: LoopLagMonitor) -> Component:
    worst = lag.worst_ms
    status: Status = "degraded" if worst > LAG_DEGRADED_MS else "ok"
    return Component(status=status, detail=f"worst lag {worst:.1f} ms over the last 10 s")


async def report(host: RuntimeHost, lag: LoopLagMonitor, started: float) -> HealthResponse:
    components = {
        "runtime": _runtime(host),
        "checkpointer": await checkpointer(host),
        "event_loop": _event_loop(lag),
    }
    worst = min((c.status for c in components.values()), key=_ORDER.index)
    return HealthResponse(
        status=worst,
        timestamp=datetime.now(UTC).isoformat(timespec="milliseconds"),
        uptime_s=round(time.monotonic() - started, 3),
        version=__version__,
        components=components,
    )
