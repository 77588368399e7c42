"""Adopting soni-audit on an existing codebase, in real git repositories: baselines that
survive line shifts, `--since REF`, `--add-noqa`, unused `# noqa` (AUD100) and the framework
idioms the mutation rules leave alone."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from audit.analysis.handed import idioms
from audit.analysis.loader import Unloadable, load
from audit.analysis.recorders.parameter_writes import ParameterWrites
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from tests.conftest import Project

APP = """\
import time


async def handler():
    time.sleep(1)


def fill(settings: dict, key):
    settings[key] = True
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)


@pytest.fixture
def repo(project: Project) -> Project:
    _git(project.root, "init", "-q")
    _git(project.root, "config", "user.email", "dev@example.com")
    _git(project.root, "config", "user.name", "dev")
    project.write("pyproject.toml", '[tool.soni-audit]\nbaseline = "audit-baseline.json"\n')
    project.write("app.py", APP)
    _git(project.root, "add", ".")
    _git(project.root, "commit", "-q", "-m", "start")
    return project


def _json(project: Project, *args: str) -> dict:
    result = project.run("check", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_a_baseline_survives_line_shifts_and_reports_only_new_findings(repo: Project) -> None:
    written = repo.run("check", "--write-baseline")
    assert written.returncode == 0, written.stderr
    assert "wrote 2 findings to the baseline" in written.stderr
    baseline = json.loads((repo.root / "audit-baseline.json").read_text())
    assert [(e["code"], e["function"], e["text"]) for e in baseline["findings"]] == [
        ("BLK100", "handler", "time.sleep(1)"),
        ("MUT101", "fill", "settings[key] = True"),
    ]
    assert repo.run("check").returncode == 0
    shifted = "".join(f"# line {n}\n" for n in range(30)) + APP
    shifted += "\n\nasync def later():\n    time.sleep(2)\n"
    repo.write("app.py", shifted)
    document = _json(repo)
    assert [(f["line"], f["code"]) for f in document["findings"]] == [(43, "BLK100")]
    assert document["summary"]["baselined"] == 2
    assert document["summary"]["stale_baseline_entries"] == 0


def test_a_fixed_finding_makes_its_entry_stale(repo: Project) -> None:
    repo.run("check", "--write-baseline")
    repo.write(
        "app.py", APP.replace("    settings[key] = True", "    return {**settings, key: True}")
    )
    result = repo.run("check")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == (
        "1 baseline entry is fixed: run --write-baseline to prune."
    )
    assert _json(repo)["summary"]["stale_baseline_entries"] == 1
    repo.run("check", "--write-baseline")
    assert "baseline entr" not in repo.run("check").stdout


def test_moving_a_function_to_another_file_is_a_new_finding(repo: Project) -> None:
    repo.run("check", "--write-baseline")
    repo.write("app.py", APP.split("def fill")[0])
    repo.write("helpers.py", "def fill(settings: dict, key):\n    settings[key] = True\n")
    document = _json(repo)
    assert [(f["path"], f["code"]) for f in document["findings"]] == [("helpers.py", "MUT101")]
    assert document["summary"]["stale_baseline_entries"] == 1


def test_a_broken_baseline_file_is_a_clear_error(repo: Project) -> None:
    missing = repo.run("check")
    assert missing.returncode == 2
    assert "audit-baseline.json: no such baseline file (write one with --write-baseline)" in (
        missing.stderr
    )
    repo.write("audit-baseline.json", '{"version": 1, "findings": [{"path": "x"}]}')
    broken = repo.run("check")
    assert broken.returncode == 2
    assert "audit-baseline.json: entry 1 is malformed" in broken.stderr


def test_since_reports_only_lines_changed_since_a_revision(repo: Project) -> None:
    repo.write("pyproject.toml", "[tool.soni-audit]\n")  # no baseline: --since alone
    repo.write(
        "app.py",
        APP + "\n\nasync def other():\n    time.sleep(3)\n",
    )
    _git(repo.root, "commit", "-q", "-am", "touch one function")
    repo.write("new.py", "import time\n\nasync def fresh():\n    time.sleep(4)\n")  # untracked
    document = _json(repo, "--since", "HEAD~1")
    assert [(f["path"], f["line"]) for f in document["findings"]] == [
        ("app.py", 13),
        ("new.py", 4),
    ]
    assert _json(repo, "--since", "HEAD", "--select", "BLK")["findings"][0]["path"] == "new.py"


@pytest.mark.parametrize(
    ("where", "args", "error"),
    [
        ("repo", ["--since", "no-such-ref"], "--since: unknown git revision 'no-such-ref'"),
        ("plain", ["--since", "HEAD"], "--since needs a git repository"),
    ],
)
def test_since_errors_name_the_problem(
    repo: Project, tmp_path_factory: pytest.TempPathFactory, where: str, args: list[str], error: str
) -> None:
    project = repo if where == "repo" else Project(tmp_path_factory.mktemp("plain"))
    if where == "plain":
        project.write("app.py", APP)
    result = project.run("check", *args)
    assert result.returncode == 2
    assert error in result.stderr


def test_add_noqa_silences_every_finding_once(project: Project) -> None:
    project.write(
        "app.py",
        textwrap.dedent(
            '''\
            import time

            async def handler(items: list):
                time.sleep(1)  # noqa: E501
                items.append(1)  # a comment
                time.sleep(2) if """
            """ else 0
            '''
        ),
    )
    result = project.run("check", "--add-noqa")
    assert result.returncode == 0, result.stderr
    assert "app.py:6: no `# noqa` can go here: the line ends inside a string" in result.stderr
    assert "Added `# noqa` to 2 lines in 1 file; 1 could not take one." in result.stderr
    text = (project.root / "app.py").read_text()
    assert "    time.sleep(1)  # noqa: E501, BLK100\n" in text
    assert "    items.append(1)  # a comment  # noqa: MUT102\n" in text
    compile(text, "app.py", "exec")
    again = project.run("check", "--add-noqa")
    assert "Added `# noqa` to 0 lines in 0 files; 1 could not take one." in again.stderr
    assert (project.root / "app.py").read_text() == text


def test_unused_noqa_codes_are_reported_and_other_tools_codes_left_alone(project: Project) -> None:
    project.write(
        "app.py",
        textwrap.dedent(
            """\
            import asyncio

            async def handler(items: list):
                await asyncio.sleep(1)  # noqa: BLK100, E501
                items.append(1)  # noqa: MUT
                value = 2  # noqa
            """
        ),
    )
    (finding,) = _json(project)["findings"]
    assert (finding["line"], finding["code"]) == (4, "AUD100")
    assert finding["message"].startswith("unused `# noqa` code BLK100")
    project.run("check", "--fix")
    assert "    await asyncio.sleep(1)  # noqa: E501\n" in (project.root / "app.py").read_text()


def test_unused_noqa_codes_of_mypy_rules_wait_for_mypy(project: Project) -> None:
    project.write("app.py", 'value: int = "x"  # type: ignore[assignment]  # noqa: TIG102\n')
    codes = [f["code"] for f in _json(project)["findings"]]
    assert "AUD100" not in codes  # TIG102 is only found with --mypy: not judged without it


@pytest.mark.parametrize("idiom", idioms(), ids=lambda idiom: idiom.id)
def test_framework_idioms_are_not_reported(idiom) -> None:
    """Each idiom's example writes to the handed parameter (the walker records it) and no
    MUT rule reports it."""
    assert idiom.example.strip(), "every idiom carries an example"
    path = "tests/test_example.py" if idiom.files else "example.py"
    code = textwrap.dedent(idiom.example).encode()
    ctx = load(SourceFile(path, "example", False, code), AnalysisSettings())
    assert not isinstance(ctx, Unloadable)
    writes = ctx.recorded(ParameterWrites)
    recorded = [m for function in ctx.model.functions for m in writes.mutations(function)]
    assert recorded, "the example writes to no parameter"
    assert ctx.parameter_writes == []


def test_idioms_are_narrow(tmp_path: Path) -> None:
    """The same writes outside the idiom stay findings."""
    cases = {
        "scope": "def route(scope):\n    scope['x'] = 1\n",  # no ASGI signature
        "state": "def attach(request):\n    request.user = 1\n",  # not through `state`
        "fixture": "def helper(request):\n    request.node.x = 1\n",  # not a test module
        "record": "class F:\n    def filter(self, record):\n        record.x = 1\n",  # no base
    }
    for name, code in cases.items():
        ctx = load(SourceFile(f"{name}.py", name, False, code.encode()), AnalysisSettings())
        assert not isinstance(ctx, Unloadable)
        assert ctx.parameter_writes, name


def test_report_shows_new_and_baselined(repo: Project) -> None:
    repo.run("check", "--write-baseline")
    repo.write("app.py", APP + "\n\ndef grow(items: list):\n    items.append(1)\n")
    result = repo.run("report", "--out", "out")
    assert result.returncode == 0, result.stderr
    index = (repo.root / "out" / "index.md").read_text()
    assert "| MUT102 | parameter-mutating-call | 1 | 0 |" in index
    assert "| MUT101 | parameter-item-store | 0 | 1 |" in index
    mutations = (repo.root / "out" / "param-mutations.md").read_text()
    assert "| app.py:9 | MUT101 | `fill` |" in mutations
    assert mutations.count("| yes |") == 1
    assert mutations.count("| no |") == 1
