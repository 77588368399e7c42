"""Every rule's VALID and INVALID examples, checked against the real per-file pass."""

from __future__ import annotations

import pytest

from audit.core.sources import SourceFile
from audit.engine.file_pass import analyze_file
from audit.rules import RULE_CODES, RULE_MODULES, all_rules
from audit.rules.base import Rule, example_code, expected_lines
from tests.conftest import analyze

ALL_RULES = all_rules()

CASES = [
    pytest.param(rule, kind, index, example, id=f"{rule.code}-{kind}-{index}")
    for rule in ALL_RULES
    if not rule.NEEDS_MYPY  # checked with real mypy in test_mypy.py
    for kind, examples in (("valid", rule.VALID), ("invalid", rule.INVALID))
    for index, example in enumerate(examples)
]


@pytest.mark.parametrize(("rule", "kind", "index", "example"), CASES)
def test_example(rule: type[Rule], kind: str, index: int, example: str) -> None:
    # An opt-in rule runs only when selected by its exact code.
    findings = analyze(example_code(example), rule.EXAMPLE_SETTINGS, select=("ALL", rule.code))
    reported = sorted(f.line for f in findings if f.code == rule.code)
    expected = expected_lines(example) if kind == "invalid" else []
    assert reported == expected, [f.message for f in findings]


@pytest.mark.parametrize(("rule", "kind", "index", "example"), CASES)
def test_a_rule_reads_only_the_facts_it_declares(
    rule: type[Rule], kind: str, index: int, example: str
) -> None:
    """Walked with only the recorders the rule declares (`needs`), the rule reports what it
    reports in a full run: a fact it reads and did not declare would raise (AUD901)."""
    source = SourceFile("example.py", "example", False, example_code(example).encode())
    alone = analyze_file(source, rule.EXAMPLE_SETTINGS, rules=(rule(),))
    full = analyze_file(source, rule.EXAMPLE_SETTINGS)
    assert [f for f in alone.findings if f.code == "AUD901"] == []
    assert list(alone.findings) == [f for f in full.findings if f.code == rule.code]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_rule_is_documented(rule: type[Rule]) -> None:
    assert rule.section("What it does")
    assert rule.section("Why is this bad?")
    assert rule.name == rule.name.lower()
    assert " " not in rule.name
    # AUD901 is a bug of soni-audit; BLK106 needs an installed library, which an example
    # cannot hold (its INVALID cases are installed wheels: tests/audit/test_dependencies.py).
    assert rule.INVALID or rule.code in ("AUD901", "BLK106")


def test_codes_are_unique_and_ordered() -> None:
    codes = [rule.code for rule in ALL_RULES]
    assert len(codes) == len(set(codes))


def test_invalid_examples_mark_at_least_one_line() -> None:
    for rule in ALL_RULES:
        for example in rule.INVALID:
            assert expected_lines(example), (rule.code, example)


def test_static_code_list_matches_the_rules() -> None:
    assert tuple(rule.code for rule in ALL_RULES) == RULE_CODES
    for rule, module in zip(ALL_RULES, RULE_MODULES, strict=True):
        assert rule.__module__ == f"audit.rules.{module}"


def test_cached_runs_do_not_import_libcst(tmp_path) -> None:
    import subprocess
    import sys

    (tmp_path / "app.py").write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    probe = (
        "import sys; from audit.cli import main; code = main(['check', '.']); "
        "print('libcst' in sys.modules); sys.exit(code)"
    )
    first = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    second = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert first.stdout.splitlines()[-1] == "True"
    assert second.stdout.splitlines()[-1] == "False", second.stdout
    assert second.returncode == 1
