"""`--since REF`: the lines added or changed since a git revision (`git diff -U0 REF`, the
working tree against REF), plus every line of files git does not track yet. A pull request
gate reports only findings on those lines; a finding of the project pass counts when the
line of its call site changed."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


class SinceError(Exception):
    """Not a git repository, an unknown revision, or git missing (the message says which)."""


@dataclass(frozen=True)
class ChangedLines:
    """Changed lines by path relative to the project root; `new` files changed entirely."""

    lines: Mapping[str, frozenset[int]]
    new: frozenset[str]

    def contains(self, path: str, line: int) -> bool:
        return path in self.new or line in self.lines.get(path, frozenset())


def changed_since(root: Path, revision: str) -> ChangedLines:
    top = Path(
        _git(
            root,
            "rev-parse",
            "--show-toplevel",
            error=f"--since needs a git repository: {root} is not in one",
        ).strip()
    )
    _git(
        root,
        "rev-parse",
        "--verify",
        "--quiet",
        f"{revision}^{{commit}}",
        error=f"--since: unknown git revision '{revision}'",
    )
    diff = _git(
        root,
        "diff",
        "-U0",
        "--no-color",
        "--no-ext-diff",
        revision,
        "--",
        ".",
        error=f"--since: git diff {revision} failed",
    )
    lines: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = None
            if name.startswith("b/"):
                path = _relative(top / name[2:], root)
                current = lines.setdefault(path, set()) if path is not None else None
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            if match is not None:
                start, count = int(match["start"]), int(match["count"] or 1)
                current.update(range(start, start + count))
    untracked = _git(
        root,
        "ls-files",
        "--others",
        "--exclude-standard",
        "--",
        ".",
        error="--since: git ls-files failed",
    )
    new = {
        path
        for name in untracked.splitlines()
        if (path := _relative(root / name, root)) is not None
    }
    return ChangedLines({p: frozenset(found) for p, found in lines.items()}, frozenset(new))


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _git(root: Path, *args: str, error: str) -> str:
    try:
        result = subprocess.run(  # noqa: S603 -- git with fixed arguments, no shell
            ["git", *args],  # noqa: S607 -- git from PATH, as the user runs it
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as missing:
        raise SinceError("--since needs git, which is not installed") from missing
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise SinceError(error + (f" ({detail[-1]})" if detail else ""))
    return result.stdout
