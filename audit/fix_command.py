"""The fixing side of `soni-audit check`: `--fix`, `--unsafe-fixes`, `--diff`, `--fix-only`.

`--diff` prints what would change and changes nothing (exit 1 when something would); the
fixes applied and the findings left without a fix (and why) go to stderr, so stdout stays a
patch. `--fix` writes the files, then reports what remains like a plain `check`;
`--fix-only` writes them and only says how many findings were fixed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from audit.engine.fix_policy import FixPolicy
from audit.engine.results import CheckResult
from audit.engine.workspace import Workspace, display_path
from audit.rules.selection import RuleSelection

if TYPE_CHECKING:
    from audit.engine.adoption import Adoption
    from audit.engine.fix_loop import FixRun


def add_arguments(check: argparse.ArgumentParser, codes: Callable[[str], list[str]]) -> None:
    group = check.add_argument_group("fixes")
    group.add_argument("--fix", action="store_true", help="apply the safe fixes")
    group.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="also apply (and count as fixable) fixes that change when or where code runs",
    )
    group.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff and change nothing (exit 1 if there is any)",
    )
    group.add_argument(
        "--fix-only", action="store_true", help="apply the fixes; do not report the rest"
    )
    group.add_argument(
        "--fixable",
        type=codes,
        action="extend",
        help="rules whose fixes may be applied (replaces the configured list)",
    )
    group.add_argument(
        "--unfixable",
        type=codes,
        action="extend",
        default=[],
        help="rules whose fixes are never applied",
    )


def fixing(args: argparse.Namespace) -> bool:
    return bool(args.fix or args.diff or args.fix_only)


def run(
    args: argparse.Namespace,
    workspace: Workspace,
    *,
    selection: RuleSelection,
    policy: FixPolicy,
    cwd: Path,
    adoption: Adoption | None = None,
) -> tuple[CheckResult | None, int, bool]:
    """Fix as asked. Returns the findings left to report (None with `--diff` and
    `--fix-only`), how many were fixed, and whether anything failed (a file not written)."""
    from audit.engine.fix_loop import run_fixes, write_changes

    paths = args.paths or [Path(".")]
    outcome = run_fixes(
        workspace,
        paths,
        selection=selection,
        policy=policy,
        force_exclude=args.force_exclude,
        mypy=args.mypy,
    )
    show = _Show(workspace, cwd)
    fixed = sum(outcome.fixed.values())
    for problem in outcome.dropped:
        print(f"soni-audit: {problem}", file=sys.stderr)
    if args.diff:
        _print_diff(outcome, show)
        return None, fixed, bool(outcome.dropped)
    errors = write_changes(workspace.root, list(outcome.changes.values()))
    for error in errors:
        print(f"soni-audit: error: {error}", file=sys.stderr)
    workspace.release()
    failed = bool(errors or outcome.dropped)
    if args.fix_only:
        noun = "finding" if fixed == 1 else "findings"
        print(f"Fixed {fixed:,} {noun} in {len(outcome.changes):,} files.", file=sys.stderr)
        return None, fixed, failed
    result = workspace.check(
        paths,
        selection=selection,
        force_exclude=args.force_exclude,
        cwd=cwd,
        mypy=args.mypy,
        adoption=adoption,
    )
    return replace(result, policy=policy, fixed=fixed), fixed, failed


def _print_diff(outcome: FixRun, show: _Show) -> None:
    from audit.engine.fix_loop import unified_diff

    for change in sorted(outcome.changes.values(), key=lambda c: c.path):
        shown = show(change.path)
        sys.stdout.write(unified_diff(change, shown))
        for finding in sorted(change.applied):
            kind = finding.fix.applicability.value if finding.fix is not None else "?"
            message = finding.fix.message if finding.fix is not None else ""
            print(
                f"{shown}:{finding.line}:{finding.column}: {finding.code} [{kind}] {message}",
                file=sys.stderr,
            )
    for finding in sorted(outcome.unfixable):
        print(
            f"{show(finding.path)}:{finding.line}:{finding.column}: {finding.code} has no fix: "
            f"{finding.no_fix}",
            file=sys.stderr,
        )


class _Show:
    """A path relative to the project root, as shown to the user (relative to cwd)."""

    def __init__(self, workspace: Workspace, cwd: Path) -> None:
        self.root, self.cwd = workspace.root, cwd.resolve()

    def __call__(self, path: str) -> str:
        return display_path(path, self.root, self.cwd)
