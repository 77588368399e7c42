"""The part of the configuration the per-file pass depends on (and the cache is keyed by)."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_IGNORE_NAMES = r"^(out|acc|memo|seen|cache)(_|$)"


@dataclass(frozen=True)
class PatternRule:
    """A user-defined ast-grep rule (see `audit.rules.patterns`); `config` is its JSON."""

    code: str
    message: str
    config: str
    fix: str | None = None
    source: str = ""


@dataclass(frozen=True)
class AnalysisSettings:
    """`blocking` maps user-configured blocking callables (functions, or `Type.method`) to
    the alternative to suggest (empty: none given); `mutation_ignore_names` is the regex of
    parameter names whose mutation is intended (accumulators, caches); `target_version` and
    `target_platform` are the interpreter the code is audited for: branches that cannot run
    there (`if sys.version_info < (3, 9):`) are not analysed."""

    blocking: Mapping[str, str] = field(default_factory=dict)
    mutation_ignore_names: str = DEFAULT_IGNORE_NAMES
    pattern_rules: tuple[PatternRule, ...] = ()
    target_version: tuple[int, int] = (sys.version_info.major, sys.version_info.minor)
    target_platform: str = sys.platform

    @property
    def configured_types(self) -> frozenset[str]:
        """Owners of configured `Type.method` entries: calling one constructs that type."""
        return frozenset(name.rpartition(".")[0] for name in self.blocking if "." in name)

    def fingerprint(self) -> str:
        data = json.dumps(
            {
                "blocking": dict(sorted(self.blocking.items())),
                "mutation_ignore_names": self.mutation_ignore_names,
                "pattern_rules": [
                    [rule.code, rule.message, rule.config, rule.fix] for rule in self.pattern_rules
                ],
                "target": [list(self.target_version), self.target_platform],
            },
            sort_keys=True,
        )
        return hashlib.blake2b(data.encode(), digest_size=8).hexdigest()
