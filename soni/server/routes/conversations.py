"""`/chat` and `/state/{user_id}`: a user's conversation, one turn at a time.

Soni's own errors (the runtime not serving, a stale saved state) are not caught here: they
propagate to the error table in `soni.server.errors`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response
from fastapi.responses import JSONResponse

from soni.runtime import ReceiptPolicy
from soni.server.dependencies import Caller, Parts, admit, limit_client
from soni.server.errors import ApiError, error_responses
from soni.server.models import (
    IDEMPOTENCY_KEY_PATTERN,
    USER_ID_PATTERN,
    ChatRequest,
    ChatResponse,
    StateResponse,
)

UserId = Annotated[str, Path(pattern=USER_ID_PATTERN, examples=["alice"])]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description=(
            "Makes retrying this message safe: a new unique value (a UUID) per message, the "
            "same value when sending the same message again. A key already applied for this "
            "user is answered with the first reply (and `Idempotent-Replayed: true`) without "
            "running the turn again, also after a restart or on another replica; the same "
            "key with a different message is a 422 `idempotency_key_reused`. Keys are "
            "remembered for `soni serve --idempotency-ttl` seconds (default a day), the last "
            f"{ReceiptPolicy().keep} per user."
        ),
        examples=["3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"],
    ),
]
REPLAYED = "Idempotent-Replayed"

router = APIRouter(
    tags=["conversations"],
    dependencies=[Depends(limit_client)],
    responses=error_responses(401, 403, 429),
)


@router.post(
    "/chat", response_model=ChatResponse, responses=error_responses(400, 408, 413, 422, 503)
)
async def chat(
    body: ChatRequest, parts: Parts, caller: Caller, key: IdempotencyKey = None
) -> JSONResponse:
    """One user message in, the bot's reply and the conversation's state out. A user's
    messages are handled one at a time, in arrival order. Send an `Idempotency-Key` to
    make a retry (after a timeout or a dropped connection) safe."""
    admit(parts, caller, body.user_id)
    result = await parts.host.call(
        lambda runtime: runtime.process_message(body.user_id, body.message, idempotency_key=key)
    )
    headers = {REPLAYED: "true"} if result.replayed else None
    answer = ChatResponse.of(result)
    if result.failures:
        failed = ", ".join(repr(failure.action) for failure in result.failures)
        raise ApiError(
            422,
            "action_failed",
            f"action {failed} failed; the bot apologised and stopped the flow",
            {
                "turn": answer.model_dump(mode="json"),
                "failures": [{"action": failure.action} for failure in result.failures],
            },
            logged=True,
            headers=headers,
            internal="; ".join(failure.message for failure in result.failures),
        )
    return JSONResponse(answer.model_dump(mode="json"), headers=headers)


@router.get("/state/{user_id}", responses=error_responses(404, 422, 503))
async def get_state(user_id: UserId, parts: Parts, caller: Caller) -> StateResponse:
    admit(parts, caller, user_id)
    state = await parts.host.call(lambda runtime: runtime.get_state(user_id))
    if state is None:
        raise ApiError(404, "unknown_user", f"there is no conversation for user {user_id!r}")
    return StateResponse.of(user_id, state)


@router.delete("/state/{user_id}", status_code=204, responses=error_responses(422, 503))
async def delete_state(user_id: UserId, parts: Parts, caller: Caller) -> Response:
    """Forget a user's conversation; forgetting an unknown user is not an error."""
    admit(parts, caller, user_id)
    await parts.host.call(lambda runtime: runtime.reset_state(user_id))
    return Response(status_code=204)
