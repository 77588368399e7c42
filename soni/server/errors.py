"""One JSON shape for every error, an id per error, and the stack in the log, never the body.

{"error": {"id": "5f0c9e2a7b1d4c3e", "type": "validation_error",
           "message": "body.message: String should have at most 2000 characters",
           "details": [...]}}

Routes raise `ApiError` for what they find wrong themselves and let soni's own errors
propagate: `DOMAIN_ERRORS` is the one place that says how each of those is answered.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from soni.errors import ActionError, SoniError, StaleStateError
from soni.runtime.receipts import IdempotencyKeyReused
from soni.server.host import NotServing
from soni.server.models import ErrorDetail, ErrorResponse

log = logging.getLogger("soni.server")

_HTTP_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """An error the route knows how to describe to the client."""

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        details: Any = None,
        *,
        logged: bool = False,
        headers: Mapping[str, str] | None = None,
        internal: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.details = details
        self.logged = logged
        self.headers = headers
        self.internal = internal
        """What only the log may say (exception text), next to the error id."""


_E = TypeVar("_E", bound=SoniError)


def _no_details(error: SoniError) -> None:
    return None


@dataclass(frozen=True)
class ErrorRule(Generic[_E]):
    """How the client hears of one class of domain error."""

    status: int
    type: str
    logged: bool
    """Log it with its id: for errors an operator may have to act on."""
    message: Callable[[_E], str] = str
    details: Callable[[_E], Any] = _no_details
    headers: Mapping[str, str] = field(default_factory=dict)


def _start_over(error: StaleStateError) -> str:
    """The message names the way out: only starting the conversation over recovers it."""
    if error.user_id is None:
        return str(error)
    return f"{error}; DELETE /state/{error.user_id} starts the conversation over"


DOMAIN_ERRORS: Mapping[type[SoniError], ErrorRule[Any]] = MappingProxyType(
    {
        NotServing: ErrorRule[NotServing](
            503,
            "not_ready",
            logged=False,
            details=lambda error: {"phase": error.phase.value},
            headers={"Retry-After": "1"},
        ),
        IdempotencyKeyReused: ErrorRule[IdempotencyKeyReused](
            422,
            "idempotency_key_reused",
            logged=False,
            details=lambda error: {"idempotency_key": error.key, "turn": error.turn},
        ),
        StaleStateError: ErrorRule[StaleStateError](
            422, "invalid_state", logged=True, message=_start_over
        ),
        ActionError: ErrorRule[ActionError](
            422,
            "action_failed",
            logged=True,
            message=lambda error: f"action {error.action!r} failed",
        ),
        SoniError: ErrorRule[SoniError](422, "domain_error", logged=True),
    }
)
"""Every domain error the routes let through, by class. Routes never catch them: an error
takes the rule of its nearest class here, and `SoniError` is the catch-all."""


def rule_for(error: SoniError) -> ErrorRule[Any]:
    """The row of the nearest class of `error` (its own, else a base's, as `except` does)."""
    return next(DOMAIN_ERRORS[cls] for cls in type(error).__mro__ if cls in DOMAIN_ERRORS)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error statuses of a route, for its OpenAPI description."""
    return {status: {"model": ErrorResponse} for status in statuses}


def new_error_id() -> str:
    return secrets.token_hex(8)


def error_response(
    status: int,
    type: str,
    message: str,
    details: Any = None,
    *,
    error_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    error_id = error_id or new_error_id()
    body = ErrorResponse(
        error=ErrorDetail(id=error_id, type=type, message=message, details=details)
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status,
        headers={"X-Error-Id": error_id, **(headers or {})},
    )


def _located(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "message": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]


async def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    raw = error.errors()
    for problem in raw:
        if problem.get("type") == "json_invalid":
            position = problem.get("loc", ("body", "?"))[-1]
            reason = problem.get("ctx", {}).get("error", "JSON decode error")
            message = f"the body is not valid JSON: {reason} at character {position}"
            return error_response(400, "malformed_json", message, {"position": position})
    problems = _located(raw)
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:3])
    return error_response(422, "validation_error", summary, problems)


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    message = str(error.detail)
    if error.status_code == 404 and message == "Not Found":
        message = f"there is no route {request.method} {request.url.path}"
    elif error.status_code == 405:
        allowed = headers.get("Allow") or headers.get("allow") or "?"
        message = f"{request.method} is not allowed on {request.url.path} (allowed: {allowed})"
    return error_response(
        error.status_code,
        _HTTP_TYPES.get(error.status_code, "http_error"),
        message,
        headers=headers,
    )


async def _api(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return _answer(
        request,
        error.status,
        error.type,
        error.message,
        error.details,
        logged=error.logged,
        headers=error.headers,
        internal=error.internal,
    )


async def _domain(request: Request, error: Exception) -> JSONResponse:
    """The client reads the rule's message; the log also keeps the error's own text
    (which may quote an exception) when the message leaves it out."""
    assert isinstance(error, SoniError)
    rule = rule_for(error)
    message = rule.message(error)
    return _answer(
        request,
        rule.status,
        rule.type,
        message,
        rule.details(error),
        logged=rule.logged,
        headers=rule.headers,
        internal="" if str(error) in message else str(error),
    )


def _answer(
    request: Request,
    status: int,
    type: str,
    message: str,
    details: Any,
    *,
    logged: bool,
    headers: Mapping[str, str] | None = None,
    internal: str = "",
) -> JSONResponse:
    error_id = new_error_id()
    if logged:
        log.warning(
            "%s %s: %s: %s%s [error id %s]",
            request.method,
            request.url.path,
            type,
            message,
            f" ({internal})" if internal else "",
            error_id,
        )
    return error_response(status, type, message, details, error_id=error_id, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(SoniError, _domain)
