"""User-defined ast-grep pattern rules, reported through the normal machinery."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Project

RULE = """\
id: PAT001
message: "`print($$$ARGS)` in a coroutine; log instead"
rule:
  pattern: print($$$ARGS)
  inside:
    kind: function_definition
    regex: "^async\\\\s"
    stopBy: end
fix: logger.info($$$ARGS)
---
id: PAT002
message: "`$OBJ.delete()` not awaited"
rule:
  pattern: $OBJ.delete()
  not:
    inside: {kind: await, stopBy: neighbor}
"""


@pytest.fixture
def patterns(project: Project) -> Project:
    project.write("pyproject.toml", '[tool.soni-audit]\npattern-rules = ["rules"]\n')
    project.write("rules/audit.yml", RULE)
    project.write(
        "app.py",
        """\
        async def handler(store, user):
            print("hello", user)
            store.delete()
            await store.delete()
            print("quiet")  # noqa: PAT001

        def sync():
            print("sync code is fine")
        """,
    )
    return project


def test_pattern_rules_report_with_interpolated_messages_and_fixes(patterns: Project) -> None:
    result = patterns.run("check", "--format", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["line"], f["column"], f["code"]) for f in findings] == [
        (2, 5, "PAT001"),
        (3, 5, "PAT002"),
    ]
    assert findings[0]["message"] == '`print("hello", user)` in a coroutine; log instead'
    assert findings[0]["fix"] == {
        "applicability": "safe",
        "message": 'replace with `logger.info("hello", user)`',
        "edits": [
            {
                "line": 2,
                "column": 5,
                "end_line": 2,
                "end_column": 25,
                "content": 'logger.info("hello", user)',
            }
        ],
    }
    assert findings[1]["message"] == "`store.delete()` not awaited"
    assert json.loads(result.stdout)["summary"]["suppressed"] == 1


def test_pattern_rules_can_be_selected_and_ignored(patterns: Project) -> None:
    only = json.loads(patterns.run("check", "--format", "json", "--select", "PAT002").stdout)[
        "findings"
    ]
    assert [f["code"] for f in only] == ["PAT002"]
    assert patterns.run("check", "--ignore", "PAT").returncode == 0


def test_sarif_describes_pattern_rules(patterns: Project) -> None:
    document = json.loads(patterns.run("check", "--format", "sarif").stdout)
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert {"PAT001", "PAT002"} <= {rule["id"] for rule in rules}


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ("id: my-rule\nmessage: x\nrule: {pattern: x}\n", "`id` must be a code like PAT001"),
        ("id: BLK100\nmessage: x\nrule: {pattern: x}\n", "BLK100 is a built-in rule's code"),
        (
            "id: PAT001\nmessage: x\nrule: {pattern: x}\nseverity: high\nbogus: 1\n",
            "unknown key(s) bogus",
        ),
        ("id: PAT001\nrule: {pattern: x}\n", "`message` is required"),
        ("id: PAT001\nmessage: x\nrule: {kind: no_such_kind}\n", "invalid ast-grep rule"),
        ("id: PAT001\nmessage: x\nlanguage: rust\nrule: {pattern: x}\n", "only `language: python`"),
        ("id: PAT001\nmessage: [unclosed\n", "rules/audit.yml:3: invalid YAML: expected"),
    ],
)
def test_bad_pattern_rules_are_configuration_errors(
    project: Project, rule: str, error: str
) -> None:
    project.write("pyproject.toml", '[tool.soni-audit]\npattern-rules = ["rules/audit.yml"]\n')
    project.write("rules/audit.yml", rule)
    project.write("app.py", "x = 1\n")
    result = project.run("check")
    assert result.returncode == 2
    assert error in result.stderr, result.stderr
    assert "rules/audit.yml" in result.stderr


def test_missing_rule_file(project: Project) -> None:
    project.write("pyproject.toml", '[tool.soni-audit]\npattern-rules = ["nope.yml"]\n')
    project.write("app.py", "x = 1\n")
    result = project.run("check")
    assert result.returncode == 2
    assert "pattern-rules: nope.yml does not exist" in result.stderr
