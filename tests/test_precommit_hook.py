"""The pre-commit hook as users run it: `pre-commit try-repo` of this repository from another
git repository, which pre-commit installs into an environment of its own (pip, from PyPI).
Slow (a minute or more): deselected by default; `pytest -m slow` runs it, and so does CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

BLOCKING = "import time\n\n\nasync def handler() -> None:\n    time.sleep(1)\n"
FIXED = "import asyncio\n\n\nasync def handler() -> None:\n    await asyncio.sleep(1)\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


def _try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo <this repository> soni-audit` on the staged files of `repo`."""
    environment = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    environment.pop("VIRTUAL_ENV", None)  # the hook's own environment, not ours
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "soni-audit"],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_the_hook_fails_on_a_staged_blocking_call_and_passes_once_it_is_fixed(
    tmp_path: Path,
) -> None:
    user = tmp_path / "user-project"
    user.mkdir()
    _git(user, "init", "-q")
    _git(user, "config", "user.email", "user@example.com")
    _git(user, "config", "user.name", "A user")
    (user / "app.py").write_text(BLOCKING, encoding="utf-8")
    _git(user, "add", "app.py")

    home = tmp_path / "pre-commit-home"
    blocked = _try_repo(user, home)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode == 1, output
    assert "app.py:5:5: BLK100" in output, output
    assert "Failed" in output, output

    (user / "app.py").write_text(FIXED, encoding="utf-8")
    _git(user, "add", "app.py")
    fixed = _try_repo(user, home)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Passed" in fixed.stdout, fixed.stdout
