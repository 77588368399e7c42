"""`soni test` and `soni validate`: the conversation tests of both domains pass (so CI runs
them), a failing turn is shown with its differences, a broken file is named with its line
and the other files still run; exit codes 0, 1 and 2."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from soni.examples.banking import DOMAIN as BANKING
from soni.testing import exit_code, load_test_file, report, run_files

BANKING_TESTS = BANKING.parent / "tests"
CLINIC = Path(__file__).with_name("clinic")
CLINIC_TESTS = CLINIC / "conversations"


def soni(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soni", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize("tests", [BANKING_TESTS, CLINIC_TESTS], ids=["banking", "clinic"])
async def test_the_conversation_tests_of_each_domain_pass(tests: Path) -> None:
    results = await run_files([tests])
    failures = [line for line in report(results) if "FAIL" in line or "ERROR" in line]
    assert failures == [], "\n".join(report(results))
    assert exit_code(results) == 0
    assert sum(len(result.cases) for result in results) >= 5


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_failing_turn_is_shown_with_its_differences(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "pay.yaml",
        f"""\
        domain: {BANKING}
        env: {{SONI_BANKING_DB: "{{tmp}}/bank.db"}}
        tests:
          - name: expects the wrong person
            turns:
              - user: send 50 to Alice
              - user: sorry, I meant Carol
                bot: Send 50.00 to Alice
                slots: {{beneficiary: Alice}}
                flow: null
              - user: yes
          - name: says hello
            turns:
              - {{user: hi, bot: Hello}}
        """,
    )
    done = soni("test", str(tmp_path))
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "FAIL expects the wrong person (line 4)" in out
    assert "turn 2 (line 7): you> sorry, I meant Carol" in out
    assert "bot said: Okay, I've changed the beneficiary to Carol." in out
    assert "bot: expected 'Send 50.00 to Alice' in the reply, got a reply without it" in out
    assert "slots.beneficiary: expected 'Alice', got 'Carol'" in out
    assert "flow: expected null, got 'transfer_funds'" in out
    assert "PASS says hello" in out
    assert out.rstrip().endswith("2 tests: 1 passed, 1 failed (1 file)")


def test_a_broken_file_is_named_with_its_line_and_the_others_still_run(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a_broken.yaml",
        f"""\
        domain: {BANKING}
        tests:
          - name: misspelt
            turns:
              - {{user: hi, bots: Hello}}
        """,
    )
    _write(
        tmp_path,
        "b_fine.yaml",
        f"""\
        domain: {BANKING}
        tests:
          - name: says hello
            turns:
              - {{user: hi, bot: Hello}}
        """,
    )
    _write(tmp_path, "c_no_domain.yaml", "tests:\n  - {name: x, turns: [{user: hi}]}\n")
    done = soni("test", str(tmp_path))
    assert done.returncode == 2
    assert (
        f"ERROR {tmp_path / 'a_broken.yaml'}:5: tests[0].turns[0].bots: unknown key 'bots'"
        in done.stdout
    )
    assert "PASS says hello" in done.stdout
    assert "no domain: give `domain:` in the file or `soni test --config DOMAIN`" in done.stdout


def test_yes_and_times_stay_text_in_a_test_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "t.yaml",
        """\
        tests:
          - name: answers
            turns:
              - {user: yes, bot: [on, "12:30"]}
              - {user: no, slots: {when: 2026-11-26, flag: yes}}
        """,
    )
    loaded = load_test_file(path)
    first, second = (turn.spec for turn in loaded.cases[0].turns)
    assert (first.user, first.bot) == ("yes", ("on", "12:30"))
    assert second.user == "no"
    assert dict(second.slots) == {"when": "2026-11-26", "flag": True}
    assert not first.checks_flow


def test_soni_validate_reports_warnings_and_errors_with_file_and_line(tmp_path: Path) -> None:
    done = soni("validate", str(CLINIC / "domain.yaml"))
    assert done.returncode == 0, done.stderr
    assert "valid (4 flows, 7 slots, 3 actions, 1 warnings)" in done.stdout
    assert "domain.yaml:58: flows.cancel_appointment.trigger.phrases[0]" in done.stderr
    assert "share words with the built-in cancel" in done.stderr
    broken = _write(
        tmp_path,
        "broken.yaml",
        """\
        version: "1"
        slots:
          when: {type: date, min: someday}
        flows:
          f: {steps: [{id: a, collect: when}]}
        """,
    )
    done = soni("validate", str(broken))
    assert done.returncode == 2
    assert f"{broken}:3: slots.when: `min` of a date slot must be a date" in done.stderr
