"""Request-level behaviour of a real server: replies, state, and every error class in the
one error shape."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from openapi_spec_validator import validate

from soni.server.models import IDEMPOTENCY_KEY_PATTERN, MAX_BODY_BYTES, MAX_MESSAGE_CHARS
from tests.soni.server.conftest import Served


@pytest.fixture
async def client(test_app: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=test_app.url, timeout=30) as http:
        yield http


def assert_error(response: httpx.Response, status: int, kind: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"id", "type", "message", "details"}
    assert error["type"] == kind
    assert error["message"]
    assert response.headers["x-error-id"] == error["id"]
    return dict(error)


async def say(client: httpx.AsyncClient, user: str, message: str) -> httpx.Response:
    return await client.post("/chat", json={"user_id": user, "message": message})


async def test_a_conversation_and_its_state(client: httpx.AsyncClient) -> None:
    first = await say(client, "ann", "send money")
    assert first.status_code == 200
    assert first.json() == {
        "reply": "Who should receive it?",
        "active_flow": "transfer_funds",
        "slots": {},
        "turn": 1,
    }
    assert (await say(client, "ann", "Bob")).json()["slots"] == {"beneficiary": "Bob"}
    state = (await client.get("/state/ann")).json()
    assert state["turn"] == 2
    assert state["stack"] == ["transfer_funds"]
    assert state["awaiting"]["kind"] == "collect"


async def test_delete_forgets_and_is_idempotent(client: httpx.AsyncClient) -> None:
    await say(client, "bea", "send money")
    assert (await client.delete("/state/bea")).status_code == 204
    assert (await client.delete("/state/bea")).status_code == 204
    assert_error(await client.get("/state/bea"), 404, "unknown_user")
    assert (await say(client, "bea", "hello")).json()["turn"] == 1


INVALID_BODIES = [
    ({"user_id": "a b", "message": "hi"}, "body.user_id"),
    ({"user_id": "x" * 129, "message": "hi"}, "body.user_id"),
    ({"user_id": "ann", "message": ""}, "body.message"),
    ({"user_id": "ann", "message": "m" * (MAX_MESSAGE_CHARS + 1)}, "body.message"),
    ({"user_id": "ann"}, "body.message"),
    ({"user_id": "ann", "message": "hi", "extra": 1}, "body.extra"),
    ({"user_id": 7, "message": "hi"}, "body.user_id"),
]


@pytest.mark.parametrize(("body", "field"), INVALID_BODIES)
async def test_validation_errors_name_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    error = assert_error(await client.post("/chat", json=body), 422, "validation_error")
    details = error["details"]
    assert isinstance(details, list)
    assert field in [detail["field"] for detail in details]
    assert field in str(error["message"])


async def test_malformed_json_is_a_400_with_the_position(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/chat", content=b'{"user_id": "ann", oops}', headers={"content-type": "application/json"}
    )
    error = assert_error(response, 400, "malformed_json")
    assert error["details"] == {"position": 19}


async def test_a_body_over_the_limit_is_a_413(client: httpx.AsyncClient) -> None:
    body = b'{"user_id": "ann", "message": "' + b"m" * MAX_BODY_BYTES + b'"}'
    assert_error(await client.post("/chat", content=body), 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(3):
            yield b" " * MAX_BODY_BYTES

    assert_error(await client.post("/chat", content=chunks()), 413, "payload_too_large")


async def test_a_handoff_ends_the_flow_and_the_state_shows_it(client: httpx.AsyncClient) -> None:
    await say(client, "hal", "send money")
    handed = await say(client, "hal", "I want to talk to a human")
    assert handed.json()["reply"] == "I'll connect you with a human agent."
    state = (await client.get("/state/hal")).json()
    assert (state["handoff"], state["active_flow"], state["stack"]) == (True, None, [])


async def test_bad_user_ids_in_the_path_are_422(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/state/a%20b"), 422, "validation_error")
    assert_error(await client.delete("/state/" + "x" * 129), 422, "validation_error")


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    error = assert_error(await client.get("/nope"), 404, "not_found")
    assert "GET /nope" in str(error["message"])
    error = assert_error(await client.put("/chat"), 405, "method_not_allowed")
    assert "POST" in str(error["message"])


async def test_an_action_failure_is_a_422_that_keeps_the_reply(
    client: httpx.AsyncClient, test_app: Served
) -> None:
    error = assert_error(await say(client, "cal", "break it"), 422, "action_failed")
    details = error["details"]
    assert isinstance(details, dict)
    assert details["failures"] == [{"action": "explode"}]
    assert "boom" not in json.dumps(error)  # the exception stays in the log ...
    assert details["turn"]["reply"].startswith("Sorry, something went wrong")
    assert details["turn"]["active_flow"] is None
    assert (await client.get("/state/cal")).json()["turn"] == 1  # the turn happened
    logged = [line for line in test_app.log().splitlines() if str(error["id"]) in line]
    assert len(logged) == 1
    assert "RuntimeError: boom" in logged[0]  # ... next to the error id


async def test_a_replayed_action_failure_is_the_same_422_and_runs_nothing(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "fail-once"}
    body = {"user_id": "cid", "message": "break it"}
    first = await client.post("/chat", json=body, headers=headers)
    again = await client.post("/chat", json=body, headers=headers)
    assert_error(first, 422, "action_failed")
    replayed = assert_error(again, 422, "action_failed")
    assert replayed["details"] == assert_error(first, 422, "action_failed")["details"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert (await client.get("/state/cid")).json()["turn"] == 1


async def test_an_internal_error_is_a_500_with_a_safe_message(
    client: httpx.AsyncClient, test_app: Served
) -> None:
    error = assert_error(await say(client, "dan", "crash"), 500, "internal_error")
    assert "secret" not in str(error["message"])
    assert error["details"] is None
    log = test_app.log()
    assert f"error id {error['id']}" in log
    assert "RuntimeError: secret internal detail" in log  # the stack is in the log
    assert (await say(client, "dan", "send money")).status_code == 200  # the server goes on


async def test_one_users_messages_are_handled_one_at_a_time(client: httpx.AsyncClient) -> None:
    replies = await asyncio.gather(*(say(client, "eve", "hello") for _ in range(25)))
    assert [reply.status_code for reply in replies] == [200] * 25
    assert sorted(reply.json()["turn"] for reply in replies) == list(range(1, 26))
    assert (await client.get("/state/eve")).json()["turn"] == 25


async def test_health_reports_each_component(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert set(report["components"]) == {"runtime", "checkpointer", "event_loop"}
    assert report["components"]["checkpointer"]["latency_ms"] > 0
    assert report["components"]["runtime"]["detail"].startswith("ready")
    assert report["timestamp"].endswith("+00:00")
    assert (await client.get("/ready")).json() == {"ready": True, "phase": "ready"}


async def test_the_openapi_schema_validates(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    validate(schema)
    chat = schema["paths"]["/chat"]["post"]
    assert {"200", "400", "408", "413", "422", "500", "503"} <= set(chat["responses"])
    (key,) = [p for p in chat["parameters"] if p["name"] == "Idempotency-Key"]
    assert (key["in"], key["required"]) == ("header", False)
    assert "retry" in key["description"]
    assert key["schema"]["anyOf"][0]["pattern"] == IDEMPOTENCY_KEY_PATTERN
    error_ref = chat["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert error_ref.endswith("/ErrorResponse")
