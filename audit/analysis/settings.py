"""The part of the configuration the per-file pass depends on (and the cache is keyed by)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AnalysisSettings:
    """`blocking` maps user-configured blocking callables (functions, or `Type.method`) to
    the alternative to suggest; an empty string means none was given."""

    blocking: Mapping[str, str] = field(default_factory=dict)

    @property
    def configured_types(self) -> frozenset[str]:
        """Owners of configured `Type.method` entries: calling one constructs that type."""
        return frozenset(name.rpartition(".")[0] for name in self.blocking if "." in name)

    def fingerprint(self) -> str:
        data = json.dumps({"blocking": dict(sorted(self.blocking.items()))}, sort_keys=True)
        return hashlib.blake2b(data.encode(), digest_size=8).hexdigest()
