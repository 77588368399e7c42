"""ruff-like text: `path:line:col: CODE [*] message` (`[*]`: `--fix` repairs it), then a
summary line, and how many findings `--fix` (and `--unsafe-fixes`) would repair."""

from __future__ import annotations

from audit.engine.results import CheckResult


def render(result: CheckResult) -> str:
    lines = []
    for f in result.findings:
        marker = " [*]" if result.policy.applies(f) else ""
        lines.append(f"{f.path}:{f.line}:{f.column}: {f.code}{marker} {f.message}")
    lines.append(summary_line(result))
    lines.extend(line for line in (fixable_line(result), stale_line(result)) if line)
    return "\n".join(lines) + "\n"


def summary_line(result: CheckResult) -> str:
    scope = f"{result.files:,} files, {result.lines:,} lines checked"
    if result.suppressed:
        scope += f"; {result.suppressed:,} suppressed by noqa"
    if result.baselined:
        scope += f"; {len(result.baselined):,} in the baseline"
    if result.environment:
        scope += f"; {result.environment}"
    count = len(result.findings)
    if not count:
        fixed = f"{result.fixed:,} fixed, " if result.fixed else ""
        return f"All checks passed! ({fixed}{scope})"
    total = count + result.fixed
    noun = "finding" if total == 1 else "findings"
    files = result.files_with_findings
    where = f"in {files:,} file{'s' if files != 1 else ''}"
    if result.fixed:
        fixed = f"({result.fixed:,} fixed, {count:,} remaining)"
        return f"Found {total:,} {noun} {fixed} {where} ({scope})."
    return f"Found {count:,} {noun} {where} ({scope})."


def fixable_line(result: CheckResult) -> str:
    """`[*] 3 fixable with --fix (2 more with --unsafe-fixes).`, or "" when none is."""
    fixable, held_back = result.fixable, result.held_back
    if not fixable and not held_back:
        return ""
    line = f"[*] {fixable:,} fixable with --fix"
    if held_back:
        line += f" ({held_back:,} more with --unsafe-fixes)"
    return line + "."


def stale_line(result: CheckResult) -> str:
    """How many baseline entries no finding matches any more ("" when none)."""
    stale = len(result.stale)
    if not stale:
        return ""
    entries = "entry is" if stale == 1 else "entries are"
    return f"{stale:,} baseline {entries} fixed: run --write-baseline to prune."
