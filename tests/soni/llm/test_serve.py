"""`soni serve` with `hybrid` understanding, in a child process, its model a scripted
chat-completions server on 127.0.0.1: `/chat` answers with the model's reading, `/state`
shows the model calls and their latency, and neither the log nor a response holds the key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.chat_server import Scripted, ScriptedChatServer, commands
from tests.soni.llm.conftest import KEY, KEY_VARIABLE, assert_not_stored, banking_with, settings
from tests.soni.server.conftest import launch, serve_args


def test_soni_serve_in_hybrid(tmp_path: Path, model: ScriptedChatServer) -> None:
    config = banking_with(tmp_path / "domain", **settings(model, "hybrid"))
    served = launch(
        serve_args(config, tmp_path / "state.db"),
        tmp_path / "server.log",
        {KEY_VARIABLE: KEY, "SONI_BANKING_DB": str(tmp_path / "bank.db")},
    )
    try:
        served.wait_ready()
        with httpx.Client(base_url=served.url, timeout=30) as client:

            def chat(message: str) -> dict[str, object]:
                response = client.post("/chat", json={"user_id": "dee", "message": message})
                assert response.status_code == 200, response.text
                assert KEY not in response.text
                body: dict[str, object] = response.json()
                return body

            def understanding() -> dict[str, object]:
                response = client.get("/state/dee")
                assert response.status_code == 200
                assert KEY not in response.text
                shown: dict[str, object] = response.json()["understanding"]
                return shown

            assert chat("send 50 to Alice")["reply"] == "Send 50.00 to Alice from checking?"
            assert understanding() == {
                "backend": "hybrid",
                "model_calls": 0,
                "latency_ms": 0.0,
                "answered_by": "rules",
                "fallback": None,
            }
            model.script(commands({"kind": "correct_slot", "slot": "beneficiary", "value": "Pete"}))
            answer = chat("the name is Pete")
            assert "Send 50.00 to Pete from checking?" in str(answer["reply"])
            shown = understanding()
            assert (shown["model_calls"], shown["answered_by"]) == (1, "model")
            assert isinstance(shown["latency_ms"], float)
            assert shown["latency_ms"] > 0

            model.script(Scripted(content="not json at all"), Scripted(content="{}"))
            chat("erm what about the other one")
            shown = understanding()
            assert (shown["model_calls"], shown["answered_by"]) == (2, "rules")
            assert "outside the schema" in str(shown["fallback"])
    finally:
        served.stop()
    log = served.log()
    assert "1 model call(s)" in log
    assert "no usable reply from the model after 2 call(s)" in log
    assert KEY not in log
    assert_not_stored(tmp_path, KEY)


@pytest.mark.parametrize(
    ("understanding", "message"),
    [
        ({"backend": "llm"}, "the llm backend needs `model`"),
        ({"backend": "gpt"}, "Input should be 'rules', 'llm' or 'hybrid'"),
    ],
)
def test_soni_serve_refuses_a_bad_understanding_setting(
    tmp_path: Path, understanding: dict[str, str], message: str
) -> None:
    config = banking_with(tmp_path / "domain", **understanding)
    served = launch(serve_args(config, tmp_path / "state.db"), tmp_path / "server.log")
    assert served.process.wait(timeout=60) == 2
    assert f"{config}:" in served.log()
    assert "settings.understanding" in served.log()
    assert message in served.log()
