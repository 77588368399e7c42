"""A small async project keeps its behaviour through `--fix --unsafe-fixes`: its own test
suite passes before and after, and no blocking finding is left."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, Project

FIXTURE = REPO / "tests" / "fixtures" / "fixable_app"


def _own_tests(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_fixed_project_passes_its_own_tests_with_no_blocking_call_left(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(FIXTURE, root)
    before = _own_tests(root)
    assert before.returncode == 0, before.stdout + before.stderr
    project = Project(root)
    found = json.loads(project.run("check", "--format", "json", "--no-cache").stdout)["findings"]
    assert {f["code"] for f in found} == {"BLK100", "BLK101", "BLK102", "BLK103", "MUT102"}

    fixed = project.run("check", "--fix", "--unsafe-fixes")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert fixed.stdout.startswith("All checks passed! (")
    after = _own_tests(root)
    assert after.returncode == 0, after.stdout + after.stderr
    assert project.run("check", "--select", "BLK").returncode == 0
    assert project.run("check", "--diff", "--unsafe-fixes").stdout == ""  # nothing left to do
    source = (root / "app" / "service.py").read_text()
    assert "await asyncio.sleep(0.01)" in source  # the safe fix, not a thread
    assert "return await cache.aget(key)" in source
