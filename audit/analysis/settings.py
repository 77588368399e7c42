"""The part of the configuration the per-file pass depends on (and the cache is keyed by)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_IGNORE_NAMES = r"^(out|acc|memo|seen|cache)(_|$)"


@dataclass(frozen=True)
class PatternRule:
    """A user-defined ast-grep rule (see `audit.patterns`); `config` is its JSON."""

    code: str
    message: str
    config: str
    fix: str | None = None
    source: str = ""


@dataclass(frozen=True)
class AnalysisSettings:
    """`blocking` maps user-configured blocking callables (functions, or `Type.method`) to
    the alternative to suggest (empty: none given); `mutation_ignore_names` is the regex of
    parameter names whose mutation is intended (accumulators, caches)."""

    blocking: Mapping[str, str] = field(default_factory=dict)
    mutation_ignore_names: str = DEFAULT_IGNORE_NAMES
    pattern_rules: tuple[PatternRule, ...] = ()

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
            },
            sort_keys=True,
        )
        return hashlib.blake2b(data.encode(), digest_size=8).hexdigest()
