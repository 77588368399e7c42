"""`scripts/eval_understanding.py --backend llm|hybrid --base-url URL` end to end against
the scripted chat-completions server: the same labelled sets, every model call counted, the
latency kept, and the run shown beside the rules in the report. (The scripted replies make
the figures meaningless as a model's accuracy: this checks the pipeline, not a model.)"""

from __future__ import annotations

import json
from pathlib import Path

import eval_understanding as evaluation
from harness.chat_server import Received, Scripted, ScriptedChatServer, nothing_to_do


def test_hybrid_runs_the_sets_through_the_model_and_reports_it(
    tmp_path: Path, model: ScriptedChatServer
) -> None:
    rules_json, hybrid_json, report = (
        tmp_path / "rules.json",
        tmp_path / "hybrid.json",
        tmp_path / "r.md",
    )
    assert evaluation.main(["--json", str(rules_json), "--code", "this tree"]) == 0
    arguments = ["--backend", "hybrid", "--base-url", model.url, "--model", "scripted"]
    assert evaluation.main([*arguments, "--json", str(hybrid_json), "--code", "this tree"]) == 0
    rules = json.loads(rules_json.read_text())
    hybrid = json.loads(hybrid_json.read_text())
    asked = len(model.received)
    assert asked > 0
    assert hybrid["backend"] == "hybrid"
    assert hybrid["items"] == rules["items"]
    assert hybrid["model_calls"] == asked == hybrid["model_turns"]  # every reply was valid
    assert hybrid["model_answers"] == asked
    assert rules["model_calls"] == 0
    assert set(hybrid["latency_ms"]) == {"mean", "p50", "p95", "max"}
    # the model (always "cannot_handle") was asked only where the rules read nothing or
    # could not choose, so the other utterances score as the rules'
    assert hybrid["exact"] <= rules["exact"]

    assert (
        evaluation.main(
            ["--beside", str(hybrid_json), "--output", str(report), "--code", "this tree"]
        )
        == 0
    )
    text = report.read_text()
    assert "| set | utterances | hybrid | rules |" in text
    assert f"| hybrid | hybrid | {asked / hybrid['items']:.2f} |" in text
    assert "No model was measured for this report" not in text


def test_a_failing_model_falls_back_on_every_turn(
    tmp_path: Path, model: ScriptedChatServer
) -> None:
    def failing(_: Received) -> Scripted:
        return Scripted(status=503)

    model.default = failing
    try:
        figures = tmp_path / "llm.json"
        arguments = [
            "--backend",
            "llm",
            "--base-url",
            model.url,
            "--json",
            str(figures),
            "--code",
            "x",
        ]
        assert evaluation.main(arguments) == 0
    finally:
        model.default = nothing_to_do
    llm = json.loads(figures.read_text())
    assert llm["model_turns"] == llm["items"]  # llm asks on every turn
    assert llm["model_calls"] == 2 * llm["items"]  # and once more after each 503
    assert llm["model_answers"] == 0
