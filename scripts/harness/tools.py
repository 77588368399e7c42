"""Running soni-audit (this checkout's, or an earlier one's) and its peers as child
processes, timed or for their findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import REPO

SONI_AUDIT = (sys.executable, "-P", "-m", "audit")
"""This checkout's soni-audit (`-P`: a directory checked is never imported from)."""


def tool(name: str) -> str:
    """A command installed beside this interpreter (the venv's), else found on PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def timed(command: Sequence[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Seconds the command took, and what it printed; exit status 0 or 1 (findings), or the
    run stops with the command's error."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed, result


def soni_audit_at(engine: Path) -> list[str]:
    """The command that runs soni-audit from another work tree of this repository: a child
    interpreter whose `audit` is imported from `engine` (PYTHONPATH comes before the
    installed packages)."""
    return ["env", f"PYTHONPATH={engine}", *SONI_AUDIT]


def audit_findings(
    paths: Sequence[str],
    select: str,
    cwd: Path,
    command: Sequence[str] = SONI_AUDIT,
    options: Sequence[str] = (),
    cache: Path | None = None,
) -> list[dict[str, Any]]:
    """The findings of one `soni-audit check` run in `cwd` (JSON), by this checkout's
    engine unless `command` names another (`soni_audit_at`); `options` are added to the
    command line (`--dependencies`). No cache is used unless `cache` names a directory
    (the user cache, where library summaries are kept between runs)."""
    uncached = () if cache is not None else ("--no-cache",)
    environ = {**os.environ, "XDG_CACHE_HOME": str(cache)} if cache is not None else None
    result = subprocess.run(
        [
            *command,
            *("check", *uncached, "--exit-zero", "--format", "json", *options),
            *("--select", select, *paths),
        ],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"soni-audit failed ({result.returncode}):\n{result.stderr}")
    found: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return found


@contextmanager
def worktree(revision: str, target: Path) -> Iterator[Path]:
    """A work tree of this repository at `revision` (an earlier engine), removed after."""
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(target), revision],
        check=True,
        capture_output=True,
    )
    try:
        yield target
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(target)], check=False
        )
