"""What a check run found: the findings left after selection, precedence and suppression,
and what the run covered. Every output format and report reads this, not the engine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from audit.core.findings import FileSummary, Finding, Inventory
from audit.engine.baseline import Entry
from audit.engine.fix_policy import FixPolicy


@dataclass(frozen=True)
class RunDetails:
    """What reports need beyond the findings: every summary with its interprocedural
    facts, and the bytes each file had when it was analysed."""

    summaries: tuple[FileSummary, ...]
    sources: Mapping[str, bytes]


@dataclass(frozen=True)
class CheckResult:
    """Findings left after selection, precedence and suppression, with what the run
    covered. `inventory` holds each module's type-checking escapes (for reports and the
    budget)."""

    findings: tuple[Finding, ...]
    files: int
    lines: int
    suppressed: int
    cached: int
    inventory: Mapping[str, Inventory] = field(default_factory=dict)
    details: RunDetails | None = None
    policy: FixPolicy = field(default_factory=FixPolicy)
    fixed: int = 0  # findings fixed by `--fix` before these were found
    baselined: tuple[Finding, ...] = ()  # findings the baseline knows (not reported)
    stale: tuple[Entry, ...] = ()  # baseline entries that match no finding any more
    entries: tuple[Entry, ...] = ()  # the baseline entry of each reported finding, if asked
    environment: str = ""  # the environment dependencies were read from (`--dependencies`)

    @property
    def fixable(self) -> int:
        """Findings whose fix `--fix` applies under the run's policy."""
        return sum(self.policy.applies(finding) for finding in self.findings)

    @property
    def held_back(self) -> int:
        """Findings with an unsafe fix that only `--unsafe-fixes` applies."""
        return sum(self.policy.held_back(finding) for finding in self.findings)

    @property
    def by_code(self) -> dict[str, int]:
        return dict(sorted(Counter(f.code for f in self.findings).items()))

    @property
    def files_with_findings(self) -> int:
        return len({f.path for f in self.findings})
