"""Shared helpers: analyse a snippet in-process, or run the real CLI in a scratch project."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from audit.core.findings import Finding
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from audit.engine.file_pass import analyze_file
from audit.engine.filtering import FindingFilter
from audit.engine.noqa_pass import noqa_findings
from audit.engine.project_pass import project_findings
from audit.rules import RULE_CODES, precedence
from audit.rules.selection import RuleSelection
from tests.postgres import SESSION

REPO = Path(__file__).resolve().parent.parent
# How late a process may run on two cores busy with other work (CI): the loop's next beat
# or a sampler's next sample waits for a core. Measured with scripts/stress_suite.sh
# (reports/stress-suite.md: at a load average of 4 a watchdog's block seen 4.4 ms long, a
# py-spy site mean 3.4 ms short, a start-up step of uvicorn 11.8 ms); tests that compare a
# measured duration with the truth allow this much on the side the machine can push it.
BUSY_MACHINE_MS = 12.0
# A process waiting that long for a core stands still at whatever line it was on: a
# watchdog or a wall-clock sampler (10 ms threshold) cannot tell that from a block. A site
# no longer than this at a line that does not block is the machine, not the code.
PAUSE_MS = 10.0 + BUSY_MACHINE_MS
# Fixture projects carry test suites of their own: they run on copies, from the tests that
# use them, never as part of this suite.
collect_ignore = ["fixtures"]


def analyze(
    code: str,
    settings: AnalysisSettings | None = None,
    *,
    module: str = "example",
    select: tuple[str, ...] = ("ALL",),
    ignore: tuple[str, ...] = (),
) -> list[Finding]:
    """What `soni-audit check` reports for one module (noqa aside): the per-file pass, the
    project pass over it alone, then selection and precedence between rules."""
    data = textwrap.dedent(code).encode()
    source = SourceFile("example.py", module, False, data)
    summary = analyze_file(source, settings or AnalysisSettings())
    extra = project_findings([summary], lambda _: data, settings=settings).findings
    summary = replace(summary, findings=tuple(sorted([*summary.findings, *extra])))
    codes = (*RULE_CODES, *(rule.code for rule in (settings or AnalysisSettings()).pattern_rules))
    unused = noqa_findings([summary], {"example.py": data}, codes, mypy=False)
    summary = replace(summary, findings=tuple(sorted([*summary.findings, *unused])))
    selection = RuleSelection.build(select=select, ignore=ignore)
    return list(FindingFilter(selection, {}, precedence).apply([summary]).findings)


def pauses(sites: list[dict[str, Any]]) -> set[tuple[str, int, str]]:
    """Sites (file, line, function) of a profile or watchdog report whose every block is no
    longer than a busy machine's pause (`PAUSE_MS`): what a process waiting for a core
    looks like wherever it stood."""
    return {
        (site["file"], site["line"], site["function"])
        for site in sites
        if all(block["duration_ms"] <= PAUSE_MS for block in site["blocks"])
    }


def codes_by_line(findings: list[Finding]) -> list[tuple[int, str]]:
    return sorted((f.line, f.code) for f in findings)


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


class Project:
    """A scratch project directory with a `soni-audit` runner bound to it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, content: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return path

    def run(self, *args: str) -> Completed:
        result = subprocess.run(
            [sys.executable, "-m", "audit", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Completed(result.returncode, result.stdout, result.stderr)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `postgres` get the session's throwaway PostgreSQL (started on first use)
    or skip with the reason it cannot run here."""
    if item.get_closest_marker("postgres") is not None:
        problem = SESSION.ensure()
        if problem is not None:
            pytest.skip(f"needs PostgreSQL: {problem}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    SESSION.close()
