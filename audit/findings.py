"""Findings and per-file summaries: plain, serialisable values shared by every stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audit.interprocedural.facts import ModuleFacts


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. Columns are 1-based; `end_column` is exclusive."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    message: str
    function: str | None = None
    chain: tuple[str, ...] = ()
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "message": self.message,
            "function": self.function,
            "chain": list(self.chain),
            "fix": self.fix,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            path=data["path"],
            line=data["line"],
            column=data["column"],
            end_line=data["end_line"],
            end_column=data["end_column"],
            code=data["code"],
            message=data["message"],
            function=data["function"],
            chain=tuple(data["chain"]),
            fix=data["fix"],
        )


@dataclass(frozen=True)
class Suppressions:
    """`# noqa` comments of one file. An empty code set means "every code"."""

    lines: Mapping[int, frozenset[str]] = field(default_factory=dict)
    file: frozenset[str] | None = None

    def suppresses(self, finding: Finding) -> bool:
        if self.file is not None and _matches(self.file, finding.code):
            return True
        codes = self.lines.get(finding.line)
        return codes is not None and _matches(codes, finding.code)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": {str(line): sorted(codes) for line, codes in self.lines.items()},
            "file": sorted(self.file) if self.file is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suppressions:
        file_codes = data["file"]
        return cls(
            {int(line): frozenset(codes) for line, codes in data["lines"].items()},
            frozenset(file_codes) if file_codes is not None else None,
        )


def _matches(codes: frozenset[str], code: str) -> bool:
    return not codes or any(code.startswith(prefix) for prefix in codes)


@dataclass(frozen=True)
class Inventory:
    """How much type checking one file escapes: ignore comments by kind and code, file-level
    escapes, `cast()` calls and explicit `Any` in annotations."""

    blanket: int = 0
    coded: int = 0
    codes: Mapping[str, int] = field(default_factory=dict)
    other_checkers: int = 0
    file_level: int = 0
    casts: int = 0
    any: int = 0

    @property
    def ignores(self) -> int:
        """What the budget counts: every comment or decorator that silences a checker."""
        return self.blanket + self.coded + self.other_checkers + self.file_level

    def to_json(self) -> dict[str, Any]:
        return {
            "blanket": self.blanket,
            "coded": self.coded,
            "codes": dict(sorted(self.codes.items())),
            "other_checkers": self.other_checkers,
            "file_level": self.file_level,
            "casts": self.casts,
            "any": self.any,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Inventory:
        return cls(**{**data, "codes": dict(data["codes"])})


@dataclass(frozen=True)
class FileSummary:
    """What the per-file pass learnt about one file; cached on disk as JSON."""

    path: str
    lines: int
    findings: tuple[Finding, ...] = ()
    suppressions: Suppressions = field(default_factory=Suppressions)
    module: str = ""
    inventory: Inventory = field(default_factory=Inventory)
    # Interprocedural facts are serialised apart (the cache loads them only when the call
    # graph must be rebuilt).
    facts: ModuleFacts = field(default_factory=ModuleFacts)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "lines": self.lines,
            "module": self.module,
            "findings": [finding.to_json() for finding in self.findings],
            "suppressions": self.suppressions.to_json(),
            "inventory": self.inventory.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileSummary:
        return cls(
            path=data["path"],
            lines=data["lines"],
            module=data["module"],
            findings=tuple(Finding.from_json(item) for item in data["findings"]),
            suppressions=Suppressions.from_json(data["suppressions"]),
            inventory=Inventory.from_json(data["inventory"]),
        )
