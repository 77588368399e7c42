"""TIG102: ask mypy which `type: ignore` comments silence nothing, and join its answer to
the inventory of ignores.

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
from audit.findings import Finding

CODE = "TIG102"


class MypyError(Exception):
    """mypy is missing or failed to run (the message says which)."""


@dataclass(frozen=True)
class _Diagnostic:
    code: str
    message: str


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


def unused_ignores(root: Path, paths: Sequence[str]) -> list[Finding]:
    """TIG102 findings for the given files (paths relative to `root`)."""
    python_paths = [p for p in paths if p.endswith((".py", ".pyi"))]
    if not python_paths:
        return []
    unused: dict[tuple[str, int], list[str]] = defaultdict(list)
    errors: dict[tuple[str, int], list[_Diagnostic]] = defaultdict(list)
    for item in run_mypy(root, python_paths):
        key = (Path(str(item["file"])).as_posix(), int(str(item["line"])))
        if item.get("code") == "unused-ignore":
            unused[key].append(str(item["message"]))
        elif item.get("severity") == "error":
            errors[key].append(_Diagnostic(str(item.get("code")), str(item["message"])))
    findings = []
    wanted = set(python_paths)
    by_file: dict[str, list[Ignore]] = {}
    for path in sorted(({p for p, _ in unused} | {p for p, _ in errors}) & wanted):
        ignores = by_file.setdefault(path, _type_ignores(root / path))
        for ignore in ignores:
            key = (path, ignore.line)
            if ignore.misplaced and errors.get(key):
                findings.append(_finding(path, ignore, _not_read(ignore, errors[key])))
            elif key in unused and not ignore.misplaced:
                findings.append(_finding(path, ignore, _unused(ignore, errors.get(key, []))))
    return findings


def _type_ignores(path: Path) -> list[Ignore]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [ignore for ignore in find_ignores(text) if ignore.tool == "type"]


def _unused(ignore: Ignore, errors: list[_Diagnostic]) -> str:
    if errors:
        real = "; ".join(f"[{e.code}] {e.message}" for e in errors)
        return f"`{ignore.text}` does not cover the error mypy reports here: {real}"
    return f"unused `{ignore.text}`: mypy reports no error on this line"


def _not_read(ignore: Ignore, errors: list[_Diagnostic]) -> str:
    real = "; ".join(f"[{e.code}] {e.message}" for e in errors)
    return (
        f"`{ignore.text}` is not read by mypy (a type comment must start its comment), "
        f"so this error is not silenced: {real}"
    )


def _finding(path: str, ignore: Ignore, message: str) -> Finding:
    return Finding(path, ignore.line, ignore.column, ignore.line, ignore.end_column, CODE, message)
