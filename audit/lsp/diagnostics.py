"""Findings as LSP diagnostics: the code, a link to the rule's page, the hops of a chain as
related information, and the finding itself kept in `data` so code actions and hovers
find it again without trusting the client's copy of the range."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lsprotocol import types

from audit.lsp.engine import INTERNAL_ERROR, PARSE_ERROR, Finding, Location, RuleInfo
from audit.lsp.positions import Lines

SOURCE = "soni-audit"
_UNANALYSED = frozenset({PARSE_ERROR, INTERNAL_ERROR})


def unanalysed(finding: Finding) -> bool:
    """The file could not be analysed (AUD900: it does not parse; AUD901: soni-audit
    failed on it)."""
    return finding.code in _UNANALYSED


def diagnostic(
    finding: Finding, lines: Lines, root: Path, rule: RuleInfo | None
) -> types.Diagnostic:
    severity = (
        types.DiagnosticSeverity.Error if unanalysed(finding) else types.DiagnosticSeverity.Warning
    )
    return types.Diagnostic(
        range=lines.range(finding.line, finding.column, finding.end_line, finding.end_column),
        message=finding.message,
        severity=severity,
        code=finding.code,
        code_description=(
            types.CodeDescription(href=rule.page.resolve().as_uri())
            if rule is not None and rule.page is not None
            else None
        ),
        source=SOURCE,
        related_information=[_related(hop, root) for hop in finding.related] or None,
        data={"key": key(finding)},
    )


def key(finding: Finding) -> str:
    """What a diagnostic's `data` names its finding by."""
    return f"{finding.code}:{finding.line}:{finding.column}:{finding.end_line}:{finding.end_column}"


def _related(hop: Location, root: Path) -> types.DiagnosticRelatedInformation:
    start = types.Position(hop.line - 1, hop.column - 1)
    end = types.Position(hop.end_line - 1, hop.end_column - 1)
    uri = (root / hop.path).resolve().as_uri()
    return types.DiagnosticRelatedInformation(
        location=types.Location(uri=uri, range=types.Range(start, end)), message=hop.message
    )


def covering(findings: Iterable[Finding], lines: Lines, span: types.Range) -> list[Finding]:
    """The findings whose range meets `span` (a cursor or a selection)."""
    start, end = lines.point(span.start), lines.point(span.end)
    return [
        finding
        for finding in findings
        if (finding.line, finding.column) <= end and start <= (finding.end_line, finding.end_column)
    ]
