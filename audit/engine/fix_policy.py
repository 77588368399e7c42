"""Which fixes may be applied: those of fixable rules (`fixable`/`unfixable` in the
configuration or on the command line, as with ruff), safe ones always, unsafe ones only with
`--unsafe-fixes`."""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.core.findings import Applicability, Finding
from audit.rules.selection import RuleSelection


def _every_rule() -> RuleSelection:
    return RuleSelection.build(select=["ALL"], opt_in=False)


@dataclass(frozen=True)
class FixPolicy:
    fixable: RuleSelection = field(default_factory=_every_rule)
    unsafe: bool = False

    def applies(self, finding: Finding) -> bool:
        """The finding's fix is applied by `--fix` under this policy."""
        fix = finding.fix
        if fix is None or finding.code not in self.fixable:
            return False
        return self.unsafe or fix.applicability is Applicability.SAFE

    def held_back(self, finding: Finding) -> bool:
        """The finding has an unsafe fix that `--unsafe-fixes` would apply."""
        fix = finding.fix
        return (
            fix is not None
            and not self.unsafe
            and fix.applicability is Applicability.UNSAFE
            and finding.code in self.fixable
        )
