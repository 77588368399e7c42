"""`/chat` and `/state/{user_id}`: a user's conversation, one turn at a time.

Soni's own errors (the runtime not serving, a stale saved state) are not caught here: they
propagate to the error table in `soni.server.errors`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from soni.server.dependencies import Host
from soni.server.errors import ApiError, error_responses
from soni.server.models import USER_ID_PATTERN, ChatRequest, ChatResponse, StateResponse

UserId = Annotated[str, Path(pattern=USER_ID_PATTERN, examples=["alice"])]

router = APIRouter(tags=["conversations"])


@router.post("/chat", responses=error_responses(400, 413, 422, 503))
async def chat(body: ChatRequest, host: Host) -> ChatResponse:
    """One user message in, the bot's reply and the conversation's state out. A user's
    messages are handled one at a time, in arrival order."""
    result = await host.call(lambda runtime: runtime.process_message(body.user_id, body.message))
    response = ChatResponse.of(result)
    if result.failures:
        failed = ", ".join(repr(failure.action) for failure in result.failures)
        raise ApiError(
            422,
            "action_failed",
            f"action {failed} failed; the bot apologised and stopped the flow",
            {
                "turn": response.model_dump(mode="json"),
                "failures": [
                    {"action": failure.action, "message": failure.message}
                    for failure in result.failures
                ],
            },
            logged=True,
        )
    return response


@router.get("/state/{user_id}", responses=error_responses(404, 422, 503))
async def get_state(user_id: UserId, host: Host) -> StateResponse:
    state = await host.call(lambda runtime: runtime.get_state(user_id))
    if state is None:
        raise ApiError(404, "unknown_user", f"there is no conversation for user {user_id!r}")
    return StateResponse.of(user_id, state)


@router.delete("/state/{user_id}", status_code=204, responses=error_responses(422, 503))
async def delete_state(user_id: UserId, host: Host) -> Response:
    """Forget a user's conversation; forgetting an unknown user is not an error."""
    await host.call(lambda runtime: runtime.reset_state(user_id))
    return Response(status_code=204)
