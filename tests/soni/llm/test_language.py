"""The command language a model writes: the JSON schema sent to the server and the shape
check applied to every reply agree on a table of valid and invalid replies; the schema
keeps to what OpenAI's strict structured outputs take."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from soni.du.llm.language import MAX_COMMANDS, Reply, reply_schema

SCHEMA = reply_schema(["transfer_funds", "check_balance"], ["amount", "beneficiary"], ["greeting"])

VALID: list[dict[str, Any]] = [
    {"commands": [{"kind": "start_flow", "flow": "transfer_funds", "slots": []}]},
    {
        "commands": [
            {
                "kind": "start_flow",
                "flow": "transfer_funds",
                "slots": [{"slot": "amount", "value": "50"}],
            }
        ]
    },
    {"commands": [{"kind": "set_slot", "slot": "amount", "value": "50"}, {"kind": "affirm"}]},
    {"commands": [{"kind": "correct_slot", "slot": "beneficiary", "value": "Carol"}]},
    {"commands": [{"kind": "clarify", "options": ["transfer_funds", "check_balance"]}]},
    {"commands": [{"kind": "chitchat", "topic": "greeting"}]},
    *(
        {"commands": [{"kind": kind}]}
        for kind in (
            "cancel_flow",
            "affirm",
            "deny",
            "help",
            "human_handoff",
            "skip_question",
            "repeat",
            "cannot_handle",
        )
    ),
]

INVALID: list[Any] = [
    [],
    {},
    {"commands": []},
    {"commands": [{"kind": "affirm"}] * (MAX_COMMANDS + 1)},
    {"commands": [{"kind": "launch_rocket"}]},
    {"commands": [{"flow": "transfer_funds"}]},
    {"commands": [{"kind": "set_slot", "slot": "amount"}]},
    {"commands": [{"kind": "set_slot", "slot": "amount", "value": "5", "confidence": 0.9}]},
    {"commands": [{"kind": "affirm", "why": "said yes"}]},
    {"commands": [{"kind": "start_flow", "flow": "transfer_funds", "slots": [{"slot": "amount"}]}]},
    {"commands": [{"kind": "clarify", "options": "transfer_funds"}]},
    {"commands": [{"kind": "set_slot", "slot": "amount", "value": None}]},
    {"commands": [{"kind": "affirm"}], "note": "extra"},
]


@pytest.mark.parametrize("reply", VALID)
def test_valid_replies_pass_both(reply: dict[str, Any]) -> None:
    jsonschema.validate(reply, SCHEMA)
    Reply.model_validate_json(json.dumps(reply))


@pytest.mark.parametrize("reply", INVALID)
def test_invalid_replies_fail_both(reply: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(reply, SCHEMA)
    with pytest.raises(ValidationError):
        Reply.model_validate_json(json.dumps(reply))


def test_names_are_checked_by_the_schema_and_by_the_domain_later() -> None:
    """The schema's enums steer the model; a reply naming another flow has the right shape
    (it fails later, against the domain: see test_model_generator)."""
    reply = {"commands": [{"kind": "start_flow", "flow": "order_pizza", "slots": []}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(reply, SCHEMA)
    Reply.model_validate(reply)


def test_bare_numbers_and_booleans_are_read_as_text() -> None:
    reply = Reply.model_validate(
        {
            "commands": [
                {"kind": "set_slot", "slot": "amount", "value": 50},
                {"kind": "set_slot", "slot": "ok", "value": True},
            ]
        }
    )
    assert [getattr(command, "value", None) for command in reply.commands] == ["50", "true"]


def _objects(schema: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found.extend(_objects(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_objects(value))
    return found


def test_the_schema_fits_strict_structured_outputs() -> None:
    """Every object lists all its properties as required and allows no others."""
    objects = _objects(SCHEMA)
    assert len(objects) > 5
    for item in objects:
        assert item["additionalProperties"] is False
        assert sorted(item["required"]) == sorted(item["properties"])
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
