"""Ask mypy which `type: ignore` comments silence nothing, and join its answer to the
ignores found in the files: facts the TIG102 rule words.

mypy runs once over the checked files with `--warn-unused-ignores` and JSON output, with
the project's own mypy configuration when there is one, `--strict` otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
    on its line go unsilenced. `line` is the text of its line (for fixes)."""

    path: str
    ignore: Ignore
    unused: bool
    errors: tuple[Diagnostic, ...]
    line: str = ""


@dataclass(frozen=True)
class MypyReport:
    """The verdicts, and the codes mypy suggests for each blanket ignore it needs
    (`consider "type: ignore[assignment]" instead`), by (path, line)."""

    verdicts: tuple[IgnoreVerdict, ...] = ()
    suggestions: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)


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
        "--enable-error-code",
        "ignore-without-code",
        "--show-error-codes",
        "--no-error-summary",
    ]
    if not has_mypy_config(root):
        command.append("--strict")
    result = subprocess.run(  # noqa: S603 -- mypy on the user's own paths, no shell
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
    suggestions: dict[tuple[str, int], tuple[str, ...]] = {}
    for item in run_mypy(root, python_paths):
        key = (Path(str(item["file"])).as_posix(), int(str(item["line"])))
        code = item.get("code")
        if code == "unused-ignore":
            unused.add(key)
        elif code == "ignore-without-code":
            suggested = _SUGGESTION.search(str(item["message"]))
            if suggested is not None:
                suggestions[key] = tuple(c.strip() for c in suggested.group(1).split(","))
        elif item.get("severity") == "error":
            errors[key].append(Diagnostic(str(code), str(item["message"])))
    verdicts = []
    wanted = set(python_paths)
    for path in sorted(({p for p, _ in unused} | {p for p, _ in errors}) & wanted):
        lines = _lines(root / path)
        for ignore in find_ignores("".join(lines)):
            if ignore.tool != "type":
                continue
            key = (path, ignore.line)
            text = lines[ignore.line - 1].rstrip("\r\n")
            if ignore.misplaced and errors.get(key):
                verdicts.append(IgnoreVerdict(path, ignore, False, tuple(errors[key]), text))
            elif key in unused and not ignore.misplaced:
                found = tuple(errors.get(key, []))
                verdicts.append(IgnoreVerdict(path, ignore, True, found, text))
    return MypyReport(tuple(verdicts), suggestions)


# mypy's `ignore-without-code` message names the codes the line needs.
_SUGGESTION = re.compile(r'consider "type: ignore\[([^\]]+)\]" instead')


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError):
        return []
