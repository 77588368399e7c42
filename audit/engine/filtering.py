"""From every finding of a run to the ones reported.

In order: rule selection and per-file ignores (which rules the project wants), then
precedence between rules at one site (a rule declares the rules it yields to; only the
selected ones count, so disabling a rule never hides another's finding), then `# noqa`
comments (counted as suppressed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pathspec

from audit.core.findings import FileSummary, Finding
from audit.rules.selection import RuleSelection, matches


@dataclass(frozen=True)
class Filtered:
    findings: tuple[Finding, ...]
    suppressed: int


class FindingFilter:
    def __init__(
        self,
        selection: RuleSelection,
        per_file_ignores: Mapping[str, tuple[str, ...]],
        precedence: Callable[[], Mapping[str, frozenset[str]]],
    ) -> None:
        """`precedence` loads, for each rule, the rules it yields to: only needed (and
        called, once) where two rules report at one site, so a clean cached run never
        loads the rules."""
        self.selection = selection
        self.per_file = [
            (pathspec.GitIgnoreSpec.from_lines([pattern]), codes)
            for pattern, codes in per_file_ignores.items()
        ]
        self._load_precedence = precedence
        self._precedence: Mapping[str, frozenset[str]] | None = None

    def apply(self, summaries: Iterable[FileSummary]) -> Filtered:
        kept: list[Finding] = []
        suppressed = 0
        for summary in summaries:
            for finding in self._outranked(self._selected(summary)):
                if summary.suppressions.suppresses(finding):
                    suppressed += 1
                else:
                    kept.append(finding)
        return Filtered(tuple(sorted(kept)), suppressed)

    def _selected(self, summary: FileSummary) -> list[Finding]:
        ignored = [
            code for spec, codes in self.per_file if spec.match_file(summary.path) for code in codes
        ]
        return [
            finding
            for finding in summary.findings
            if finding.code in self.selection and not any(matches(c, finding.code) for c in ignored)
        ]

    def _outranked(self, findings: list[Finding]) -> list[Finding]:
        """The findings no selected rule at the same site takes precedence over."""
        codes: dict[tuple[str, int, int, int, int], set[str]] = {}
        for finding in findings:
            codes.setdefault(finding.site, set()).add(finding.code)
        if all(len(at_site) == 1 for at_site in codes.values()):
            return findings
        if self._precedence is None:
            self._precedence = self._load_precedence()
        precedence = self._precedence
        return [
            finding
            for finding in findings
            if not precedence.get(finding.code, frozenset()) & codes[finding.site]
        ]
