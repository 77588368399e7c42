"""The pass over `# noqa` comments, once every finding of a file is known (its own, the
project pass's, mypy's): which of them silence nothing (AUD100). Files whose comments name
none of soni-audit's codes are skipped without loading a rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from audit.core.findings import FileSummary, Finding
from audit.core.sources import decoded
from audit.rules import all_rules, file_rules
from audit.rules.aud900_parse_error import ParseError
from audit.rules.aud901_internal_error import InternalError


def noqa_findings(
    summaries: Sequence[FileSummary],
    sources: Mapping[str, bytes],
    codes: Sequence[str],
    *,
    mypy: bool,
) -> list[Finding]:
    """`codes` are every code this run knows (rules and pattern rules); `sources` the
    files' bytes as analysed. Codes only mypy finds are judged only when it ran."""
    named = [summary for summary in summaries if _names_ours(summary, codes)]
    if not named:
        return []
    needs_mypy = {rule.code for rule in all_rules() if rule.NEEDS_MYPY}
    judged = frozenset(code for code in codes if mypy or code not in needs_mypy)
    unanalysed = {ParseError.code, InternalError.code}
    found: list[Finding] = []
    for summary in named:
        data = sources.get(summary.path)
        if data is None or any(f.code in unanalysed for f in summary.findings):
            continue
        lines = decoded(data)[0].splitlines()
        for rule in file_rules():
            found.extend(rule.check_suppressions(summary, codes, judged, lines))
    return found


def _names_ours(summary: FileSummary, codes: Sequence[str]) -> bool:
    """Whether a `# noqa` of the file names one of soni-audit's codes or prefixes."""
    return any(
        any(known.startswith(code) for known in codes)
        for directive in summary.suppressions.directives
        for code in directive.codes
    )
