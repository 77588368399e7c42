"""ruff-like text: `path:line:col: CODE message`, then one summary line."""

from __future__ import annotations

from audit.results import CheckResult


def render(result: CheckResult) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in result.findings]
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def summary_line(result: CheckResult) -> str:
    scope = f"{result.files:,} files, {result.lines:,} lines checked"
    if result.suppressed:
        scope += f"; {result.suppressed:,} suppressed by noqa"
    count = len(result.findings)
    if not count:
        return f"All checks passed! ({scope})"
    noun = "finding" if count == 1 else "findings"
    files = result.files_with_findings
    return f"Found {count:,} {noun} in {files:,} file{'s' if files != 1 else ''} ({scope})."
