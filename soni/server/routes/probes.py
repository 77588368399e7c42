"""`/health` (liveness) and `/ready` (readiness): what a load balancer or an orchestrator
asks, answered also while the runtime starts or stops."""

from __future__ import annotations

from fastapi import APIRouter

from soni.server import health
from soni.server.dependencies import Host, Parts
from soni.server.errors import ApiError, error_responses
from soni.server.host import NotServing, Phase
from soni.server.models import HealthResponse, ReadyResponse

router = APIRouter(tags=["probes"])


@router.get("/health", responses=error_responses(503))
async def get_health(parts: Parts) -> HealthResponse:
    """Liveness: 200 while the process works (also while starting or stopping), 503
    when a component fails."""
    report = await health.report(parts.host, parts.lag, parts.started)
    if report.status == "failing":
        raise ApiError(503, "unhealthy", "a component is failing", report.model_dump())
    return report


@router.get("/ready", responses=error_responses(503))
async def get_ready(host: Host) -> ReadyResponse:
    """Readiness: 200 once the runtime serves turns and its database answers; 503 before,
    while the database is unreachable (it recovers by itself when the database is back),
    and once shutdown begins."""
    phase = host.phase
    if phase is not Phase.READY:
        raise NotServing(phase, host.failure)
    database = await health.checkpointer(host)
    if database.status == "failing":
        raise ApiError(
            503,
            "not_ready",
            f"the database does not answer: {database.detail}",
            {"phase": phase.value, "database": database.detail},
            headers={"Retry-After": "1"},
        )
    return ReadyResponse(ready=True, phase=phase.value)
