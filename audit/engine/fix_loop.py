"""`check --fix` and `--diff`: fix passes until nothing more applies, each fixed file verified
before it is kept, and the files written atomically at the end.

A pass checks the project (files already fixed are read from memory), takes in each file the
applicable fixes in source order, skips a fix whose edits collide with one already taken (the
next pass finds it again, on the new text), and keeps the new text only if it still parses
and compiles; otherwise the file's fixes are dropped and reported. Passes stop when one
changes nothing, so a second `--fix` has nothing left to do.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audit.core.findings import Finding
from audit.core.sources import decoded
from audit.engine.fix_policy import FixPolicy
from audit.engine.workspace import Workspace
from audit.fixes.edits import Placed, Text, apply, collide
from audit.rules.selection import RuleSelection

MAX_PASSES = 10


@dataclass
class FileChange:
    """A file's bytes before the run and after its fixes, and the findings fixed in it."""

    path: str  # relative to the project root
    original: bytes
    fixed: bytes
    applied: list[Finding] = field(default_factory=list)


@dataclass
class FixRun:
    changes: dict[str, FileChange] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # why a file's fixes were not kept
    unfixable: list[Finding] = field(default_factory=list)  # findings that say why not
    passes: int = 0

    @property
    def fixed(self) -> Counter[str]:
        """Findings fixed, by code."""
        return Counter(f.code for change in self.changes.values() for f in change.applied)


def run_fixes(
    workspace: Workspace,
    paths: Sequence[Path],
    *,
    selection: RuleSelection,
    policy: FixPolicy,
    force_exclude: bool = False,
    mypy: bool = False,
) -> FixRun:
    """Fix in memory (the workspace holds the fixed files); nothing is written."""
    run = FixRun()
    broken: set[str] = set()
    for number in range(1, MAX_PASSES + 1):
        run.passes = number
        result = workspace.check(
            paths,
            selection=selection,
            force_exclude=force_exclude,
            cwd=workspace.root,
            mypy=mypy and number == 1,  # mypy reads the files on disk: only they are current
            details=True,
        )
        assert result.details is not None
        if number == 1:
            run.unfixable = [f for f in result.findings if f.no_fix and f.code in policy.fixable]
        by_file: dict[str, list[Finding]] = {}
        for finding in result.findings:
            if policy.applies(finding) and finding.path not in broken:
                by_file.setdefault(finding.path, []).append(finding)
        changed = False
        for path, findings in sorted(by_file.items()):
            data = result.details.sources[path]
            text, encoding = decoded(data)
            fixed, used = _fixed(text, findings)
            if fixed == text:
                continue
            problem = _problem(fixed, path)
            if problem is not None:
                broken.add(path)
                run.dropped.append(f"{path}: its fixes were not applied: {problem}")
                continue
            change = run.changes.setdefault(path, FileChange(path, data, data))
            change.fixed = fixed.encode(encoding)
            change.applied.extend(used)
            workspace.hold(path, change.fixed)
            changed = True
        if not changed:
            break
    return run


def _fixed(text: str, findings: list[Finding]) -> tuple[str, list[Finding]]:
    """The text with the fixes that do not collide, taken in source order."""
    document = Text(text)
    taken: list[Placed] = []
    used = []
    for finding in sorted(findings, key=lambda f: (f.line, f.column, f.code, f.message)):
        assert finding.fix is not None
        placed = document.places(finding.fix)
        if not collide(placed, taken):
            taken.extend(placed)
            used.append(finding)
    return apply(text, taken), used


def _problem(text: str, path: str) -> str | None:
    """Why the fixed text cannot be kept (None when Python parses and compiles it; the next
    pass parses it with libcst too, and reports the file if that fails)."""
    try:
        compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return f"the result would not parse ({error})"
    return None


# -- writing ---------------------------------------------------------------------------------


def write_changes(root: Path, changes: Sequence[FileChange]) -> list[str]:
    """Write every fixed file atomically, keeping its mode; return what could not be
    written and why. A file that changed on disk since it was read is left alone."""
    errors = []
    for change in changes:
        target = root / change.path
        try:
            if target.read_bytes() != change.original:
                errors.append(f"{change.path}: changed on disk during the run; not written")
                continue
            mode = stat.S_IMODE(target.stat().st_mode)
            if not mode & 0o222 or not os.access(target, os.W_OK):
                errors.append(f"{change.path}: the file is read-only; not written")
                continue
            _replace(target, change.fixed, mode)
        except OSError as error:
            errors.append(f"{change.path}: cannot write: {error.strerror or error}")
    return errors


def _replace(target: Path, data: bytes, mode: int) -> None:
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# -- showing ---------------------------------------------------------------------------------


def unified_diff(change: FileChange, shown: str) -> str:
    """`diff -u` of the change, the path as shown to the user."""
    before = _lines(change.original)
    after = _lines(change.fixed)
    out = []
    for line in difflib.unified_diff(before, after, f"a/{shown}", f"b/{shown}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(data: bytes) -> list[str]:
    text, _ = decoded(data)
    return text.splitlines(keepends=True)
