"""The HTTP contract: request and response bodies, their limits, and the one error shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from soni.core.slots import SlotValue
from soni.runtime import TurnResult, UserState

USER_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"
"""User ids name LangGraph threads and appear in logs: printable, no spaces, bounded."""

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
"""Visible ASCII, as HTTP header values allow without quoting; a UUID fits."""

MAX_MESSAGE_CHARS = 2000
MAX_BODY_BYTES = 64 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChatRequest(_Strict):
    user_id: str = Field(pattern=USER_ID_PATTERN, examples=["alice"])
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, examples=["send 50 to Bob"])


class ChatResponse(BaseModel):
    reply: str
    active_flow: str | None
    slots: dict[str, SlotValue]
    turn: int

    @classmethod
    def of(cls, result: TurnResult) -> ChatResponse:
        return cls(
            reply=result.reply, active_flow=result.active_flow, slots=result.slots, turn=result.turn
        )


class StateResponse(BaseModel):
    user_id: str
    turn: int
    active_flow: str | None
    slots: dict[str, SlotValue]
    stack: list[str]
    awaiting: dict[str, Any] | None
    handoff: bool
    understanding: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Where a model reads messages (`settings.understanding.backend` llm or hybrid): "
            "the last turn's `model_calls`, their `latency_ms`, who gave the commands "
            "(`answered_by`: model or rules) and why not the model (`fallback`)"
        ),
    )

    @classmethod
    def of(cls, user_id: str, state: UserState) -> StateResponse:
        return cls(
            user_id=user_id,
            turn=state.turn,
            active_flow=state.active_flow,
            slots=state.slots,
            stack=list(state.stack),
            awaiting=state.awaiting,
            handoff=state.handoff,
            understanding=state.understanding,
        )


Status = Literal["ok", "degraded", "starting", "stopping", "failing"]


class Component(BaseModel):
    status: Status
    detail: str = ""
    latency_ms: float | None = None


class HealthResponse(BaseModel):
    status: Status
    timestamp: str
    uptime_s: float
    version: str
    components: dict[str, Component]


class ReadyResponse(BaseModel):
    ready: bool
    phase: str


class ErrorDetail(BaseModel):
    id: str = Field(description="quote it when reporting a problem; the server log has it too")
    type: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every non-2xx response has this shape."""

    error: ErrorDetail
