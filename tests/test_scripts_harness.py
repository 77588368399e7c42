"""The benchmarks' shared harness (`scripts/harness/`), with real servers, real child
interpreters and the real report environment."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import pytest
from jinja2 import TemplateNotFound

from audit.report.build import environment as audit_environment
from harness import REPO
from harness.clients import failure, open_client, open_clients, say, turn
from harness.conversation import CONVERSATION, message
from harness.phases import Latency, quantile_ms
from harness.report import TEMPLATES, command, emit, environment, render
from harness.servers import Server
from harness.tools import SONI_AUDIT, audit_findings, soni_audit_at


def test_scripts_templates_render_beside_the_audits_own() -> None:
    names = {path.name for path in TEMPLATES.glob("*.j2")}
    assert {"load-test.md.j2", "turn-cost.md.j2", "profiling-overhead.md.j2"} <= names
    assert not names & {p.name for p in (REPO / "audit" / "templates").glob("*.j2")}
    env = environment()
    env.get_template("turn-cost.md.j2")
    env.get_template("profile.md.j2")  # soni-audit's own, from the same environment
    with pytest.raises(TemplateNotFound):
        audit_environment().get_template("turn-cost.md.j2")  # the audit knows only its own


def test_a_report_renders_and_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class Layer:
        name, what, cpu_ms, spread_ms = "memory", "RuntimeLoop", 1.234, (1.0, 1.5)

    text = render(
        "turn-cost.md.j2",
        machine="2 cores (x86_64), Python 3.11.7, Linux",
        date="2026-12-08",
        layers=[Layer()],
        users=2,
        repeats=1,
        turns=10,
        command="python scripts/bench_turn.py --users 2",
    )
    assert "| memory | RuntimeLoop | 1.23 ms | 1.00-1.50 ms |" in text
    assert "Reproduce: `python scripts/bench_turn.py --users 2`" in text
    output = tmp_path / "nested" / "turn-cost.md"
    emit(text, output)
    assert output.read_text(encoding="utf-8") == text
    assert capsys.readouterr().out == text


@pytest.mark.parametrize(
    ("argv", "dsn", "expected"),
    [
        (["--duration", "5"], None, "python scripts/x.py --duration 5"),
        (
            ["--postgres", "postgresql://u:pw@db/x", "--output", "r.md"],
            "postgresql://u:pw@db/x",
            "python scripts/x.py --postgres DSN --output r.md",
        ),
        (["--postgres=postgresql://db/x"], "postgresql://db/x", "python scripts/x.py --postgres=DSN"),
    ],
)
def test_the_command_a_report_states_names_no_database(
    argv: list[str], dsn: str | None, expected: str
) -> None:
    assert command("scripts/x.py", argv, dsn=dsn) == expected


@pytest.mark.parametrize(
    ("samples", "q", "ms"),
    [
        ([], 0.95, 0.0),
        ([0.010], 0.5, 10.0),
        ([0.001 * n for n in range(1, 101)], 0.5, 51.0),
        ([0.001 * n for n in range(1, 101)], 0.95, 96.0),
        ([0.001 * n for n in range(1, 101)], 1.0, 100.0),
    ],
)
def test_quantiles_are_nearest_rank(samples: list[float], q: float, ms: float) -> None:
    assert quantile_ms(samples, q) == pytest.approx(ms)


def test_latency_figures_of_unsorted_samples() -> None:
    latency = Latency.of([0.03, 0.01, 0.02], 1, 2.0, server_cpu_ms=1.5, client_cpu_ms=0.5)
    assert (latency.requests, latency.errors, latency.throughput) == (3, 1, 1.5)
    assert (latency.p50_ms, latency.max_ms) == pytest.approx((20.0, 30.0))


def test_the_conversation_starts_over_after_its_last_message() -> None:
    assert [message(n) for n in range(len(CONVERSATION) + 1)] == [*CONVERSATION, CONVERSATION[0]]


def _reply(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("reply", "problem", "number"),
    [
        (_reply(200, {"reply": "hi", "turn": 3}), "", 3),
        (
            _reply(422, {"error": {"type": "action_failed", "details": {"turn": {"turn": 4}}}}),
            "422 action_failed",
            4,
        ),
        (_reply(429, {"error": {"type": "rate_limited"}}), "429 rate_limited", None),
        (httpx.Response(502, text="bad gateway"), "502 bad gateway", None),
    ],
)
def test_what_a_reply_says(reply: httpx.Response, problem: str, number: int | None) -> None:
    assert failure(reply) == problem
    assert turn(reply) == number


def test_a_failed_connection_is_named_by_its_exception() -> None:
    assert failure(httpx.ConnectError("refused")) == "ConnectError: refused"


async def test_soni_serve_answers_the_harness_clients_and_stops(tmp_path: Path) -> None:
    server = Server(tmp_path)
    await server.start()
    try:
        async with open_clients(server, 2) as clients:
            replies = [await say(client, f"user-{n}", "hi") for n, client in enumerate(clients)]
        assert [(failure(r), turn(r)) for r in replies] == [("", 1), ("", 1)]
        async with httpx.AsyncClient(base_url=server.url) as stranger:
            assert (await say(stranger, "user-0", "hi")).status_code == 401  # token required
        assert server.cpu_s() > 0
    finally:
        assert await server.stop() != -9  # it stopped on SIGTERM, not killed after the limit
    assert not server.running


async def test_the_floor_app_serves_on_the_same_uvicorn(tmp_path: Path) -> None:
    floor = Server(tmp_path, floor=True)
    await floor.start()
    try:
        async with open_client(floor) as client:
            replies = [await say(client, "u", message(n)) for n in range(2)]
        assert [r.json() for r in replies] == [{"reply": "ok", "turn": 1}, {"reply": "ok", "turn": 2}]
    finally:
        await floor.stop()
    assert (tmp_path / "floor.db").is_file()


SLEEPY = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def test_audit_findings_from_this_checkout_ignore_a_checked_audit_package(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SLEEPY, encoding="utf-8")
    (tmp_path / "audit").mkdir()  # a checked project's own `audit` is never imported
    (tmp_path / "audit" / "__init__.py").write_text("raise SystemExit(7)\n", encoding="utf-8")
    found = audit_findings(["app.py"], "BLK", tmp_path)
    assert [(f["path"], f["line"], f["code"]) for f in found] == [("app.py", 4, "BLK100")]
    assert SONI_AUDIT[-2:] == ("-m", "audit")


def test_soni_audit_at_runs_the_engine_of_another_work_tree(tmp_path: Path) -> None:
    engine = tmp_path / "engine"
    (engine / "audit").mkdir(parents=True)
    (engine / "audit" / "__init__.py").write_text("", encoding="utf-8")
    finding = {"path": "seen.py", "line": 1, "code": "ENG001"}
    main = f"""
        import json, sys
        print(json.dumps({{"findings": [{{**{finding!r}, "argv": sys.argv[1:]}}]}}))
    """
    (engine / "audit" / "__main__.py").write_text(textwrap.dedent(main), encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (found,) = audit_findings(["."], "BLK", project, soni_audit_at(engine))
    assert {key: found[key] for key in finding} == finding
    assert found["argv"] == ["check", "--no-cache", "--exit-zero", "--format", "json", "--select", "BLK", "."]
