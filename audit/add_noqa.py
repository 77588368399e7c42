"""`soni-audit check --add-noqa`: silence every current finding where it is read, with a
`# noqa: CODE` on its line, so a legacy codebase can switch the check on today and fix at
its own pace.

A code joins a `# noqa` the line already has; other comment text stays. A line that ends
inside a string or with a backslash cannot take a comment: it is named and skipped. Each
edited file must compile before it is written (atomically, like fixes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audit.analysis.comments import lines_ending_in_strings
from audit.core.findings import Edit, FileSummary
from audit.core.sources import decoded
from audit.engine.fix_loop import FileChange
from audit.engine.workspace import Workspace
from audit.fixes.edits import Text, apply
from audit.rules.aud900_parse_error import ParseError
from audit.rules.selection import RuleSelection


@dataclass
class NoqaOutcome:
    changes: list[FileChange] = field(default_factory=list)
    lines: int = 0  # lines given a suppression comment, or one extended
    skipped: list[tuple[str, int, str]] = field(default_factory=list)  # path, line, why


def add_noqa(
    workspace: Workspace,
    paths: Sequence[Path],
    *,
    selection: RuleSelection,
    force_exclude: bool = False,
) -> NoqaOutcome:
    """The files with their findings silenced, in memory; nothing is written."""
    result = workspace.check(
        paths, selection=selection, force_exclude=force_exclude, cwd=workspace.root, details=True
    )
    assert result.details is not None
    summaries = {summary.path: summary for summary in result.details.summaries}
    wanted: dict[str, dict[int, set[str]]] = {}
    outcome = NoqaOutcome()
    for finding in result.findings:
        if finding.code == ParseError.code:
            outcome.skipped.append((finding.path, finding.line, "the file cannot be parsed"))
            continue
        wanted.setdefault(finding.path, {}).setdefault(finding.line, set()).add(finding.code)
    for path, lines in sorted(wanted.items()):
        data = result.details.sources[path]
        text, encoding = decoded(data)
        edits, skipped = _edits(text, summaries[path], lines)
        outcome.skipped.extend((path, line, why) for line, why in skipped)
        if not edits:
            continue
        document = Text(text)
        fixed = apply(text, [document.place(edit) for edit in edits])
        try:
            compile(fixed, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as error:
            outcome.skipped.append((path, 1, f"not changed: the result would not parse ({error})"))
            continue
        outcome.changes.append(FileChange(path, data, fixed.encode(encoding)))
        outcome.lines += len(edits)
    return outcome


def _edits(
    text: str, summary: FileSummary, wanted: dict[int, set[str]]
) -> tuple[list[Edit], list[tuple[int, str]]]:
    lines = text.splitlines()
    in_strings = lines_ending_in_strings(text)
    directives = {directive.line: directive for directive in summary.suppressions.directives}
    edits, skipped = [], []
    for number, codes in sorted(wanted.items()):
        line = lines[number - 1] if number <= len(lines) else ""
        if number in in_strings:
            skipped.append((number, "no `# noqa` can go here: the line ends inside a string"))
            continue
        if line.rstrip().endswith("\\"):
            skipped.append((number, "no `# noqa` can go here: the line ends with a backslash"))
            continue
        directive = directives.get(number)
        if directive is not None:
            merged = ", ".join([*directive.codes, *sorted(codes - set(directive.codes))])
            edit = Edit(number, directive.column, number, directive.end_column, f"# noqa: {merged}")
        else:
            end = len(line.rstrip()) + 1
            edit = Edit(number, end, number, len(line) + 1, f"  # noqa: {', '.join(sorted(codes))}")
        edits.append(edit)
    return edits, skipped
