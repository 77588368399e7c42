"""Ask mypy which `type: ignore` comments silence nothing, and join its answer to the
ignores found in the files: facts the TIG102 rule words.

mypy runs once over the checked files with `--warn-unused-ignores` and JSON output, with
the project's own mypy configuration when there is one, `--strict` otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.analysis.ignores import Ignore, find_ignores


class MypyError(Exception):
    """mypy is missing or failed to run (the message says which)."""


@dataclass(frozen=True)
class Diagnostic:
    """An error mypy reports."""

    code: str
    message: str


@dataclass(frozen=True)
class IgnoreVerdict:
    """What mypy says of one ignore comment: `unused` (it silences nothing, or not the
    error on its line), or not read at all (it does not start its comment) while `errors`
    on its line go unsilenced."""

    path: str
    ignore: Ignore
    unused: bool
    errors: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class MypyReport:
    verdicts: tuple[IgnoreVerdict, ...] = ()


def has_mypy_config(root: Path) -> bool:
    if (root / "mypy.ini").is_file() or (root / ".mypy.ini").is_file():
        return True
    for name, section in (("pyproject.toml", "[tool.mypy]"), ("setup.cfg", "[mypy]")):
        path = root / name
        if path.is_file() and section in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


def run_mypy(root: Path, paths: Sequence[str]) -> list[dict[str, object]]:
    if importlib.util.find_spec("mypy") is None:
        raise MypyError("--mypy needs mypy in the same environment: pip install 'mypy>=1.11'")
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--output",
        "json",
        "--warn-unused-ignores",
        "--show-error-codes",
        "--no-error-summary",
    ]
    if not has_mypy_config(root):
        command.append("--strict")
    result = subprocess.run(
        [*command, *paths], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode not in (0, 1):
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise MypyError("mypy failed:\n" + "\n".join(detail))
    diagnostics = []
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            diagnostics.append(json.loads(line))
    return diagnostics


def mypy_report(root: Path, paths: Sequence[str]) -> MypyReport:
    """mypy's verdicts on the ignore comments of the given files (relative to `root`)."""
    python_paths = [p for p in paths if p.endswith((".py", ".pyi"))]
    if not python_paths:
        return MypyReport()
    unused: set[tuple[str, int]] = set()
    errors: dict[tuple[str, int], list[Diagnostic]] = defaultdict(list)
    for item in run_mypy(root, python_paths):
        key = (Path(str(item["file"])).as_posix(), int(str(item["line"])))
        if item.get("code") == "unused-ignore":
            unused.add(key)
        elif item.get("severity") == "error":
            errors[key].append(Diagnostic(str(item.get("code")), str(item["message"])))
    verdicts = []
    wanted = set(python_paths)
    for path in sorted(({p for p, _ in unused} | {p for p, _ in errors}) & wanted):
        for ignore in _type_ignores(root / path):
            key = (path, ignore.line)
            if ignore.misplaced and errors.get(key):
                verdicts.append(IgnoreVerdict(path, ignore, False, tuple(errors[key])))
            elif key in unused and not ignore.misplaced:
                verdicts.append(IgnoreVerdict(path, ignore, True, tuple(errors.get(key, []))))
    return MypyReport(tuple(verdicts))


def _type_ignores(path: Path) -> list[Ignore]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [ignore for ignore in find_ignores(text) if ignore.tool == "type"]
