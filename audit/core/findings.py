"""Findings and per-file summaries: plain, serialisable values shared by every stage."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audit.core.facts import ModuleFacts


@dataclass(frozen=True)
class Location:
    """Another place a finding points at (a hop of a chain), with what happens there."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Location:
        return cls(**data)


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, column) up to (end_line, end_column) with `content`;
    1-based, end exclusive, like a finding's span."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Edit:
        return cls(**data)


class Applicability(enum.Enum):
    """Whether applying a fix keeps behaviour (`safe`) or may change when or where code
    runs (`unsafe`)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Fix:
    """A rule's repair of one finding: edits applied together, or not at all."""

    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability.value,
            "message": self.message,
            "edits": [edit.to_json() for edit in self.edits],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fix:
        return cls(
            Applicability(data["applicability"]),
            data["message"],
            tuple(Edit.from_json(edit) for edit in data["edits"]),
        )


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. Columns are 1-based; `end_column` is exclusive.

    `chain` names the functions a transitive finding goes through; `related` locates each
    of its hops; `fix` is the rule's repair, if it has one, and `no_fix` why a rule that
    repairs such findings cannot repair this one.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    message: str
    function: str | None = None
    chain: tuple[str, ...] = ()
    related: tuple[Location, ...] = field(default=(), compare=False)
    fix: Fix | None = field(default=None, compare=False)
    no_fix: str | None = field(default=None, compare=False)

    @property
    def site(self) -> tuple[str, int, int, int, int]:
        """Where the finding is: two findings at one site are about the same code."""
        return (self.path, self.line, self.column, self.end_line, self.end_column)

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
            "related": [location.to_json() for location in self.related],
            "fix": self.fix.to_json() if self.fix is not None else None,
            "no_fix": self.no_fix,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        fix = data.get("fix")
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
            related=tuple(Location.from_json(item) for item in data.get("related", ())),
            fix=Fix.from_json(fix) if fix is not None else None,
            no_fix=data.get("no_fix"),
        )


@dataclass(frozen=True)
class NoqaComment:
    """A `# noqa` directive as written: its line, the columns of its text (1-based, end
    exclusive) and its codes in the order written (none: a bare `# noqa`)."""

    line: int
    column: int
    end_column: int
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Suppressions:
    """`# noqa` comments of one file. An empty code set means "every code".

    `lines` are the codes each line suppresses (a `def` line's `# noqa` also reaches the
    body's findings); `directives` the line directives as written; `covered` the codes a
    `def` line's `# noqa` suppressed in the function's body.
    """

    lines: Mapping[int, frozenset[str]] = field(default_factory=dict)
    file: frozenset[str] | None = None
    directives: tuple[NoqaComment, ...] = ()
    covered: Mapping[int, frozenset[str]] = field(default_factory=dict)

    def suppresses(self, finding: Finding) -> bool:
        if self.file is not None and _matches(self.file, finding.code):
            return True
        codes = self.lines.get(finding.line)
        return codes is not None and _matches(codes, finding.code)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": {str(line): sorted(codes) for line, codes in self.lines.items()},
            "file": sorted(self.file) if self.file is not None else None,
            "directives": [dataclasses.astuple(d) for d in self.directives],
            "covered": {str(line): sorted(codes) for line, codes in self.covered.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suppressions:
        file_codes = data["file"]
        return cls(
            {int(line): frozenset(codes) for line, codes in data["lines"].items()},
            frozenset(file_codes) if file_codes is not None else None,
            tuple(
                NoqaComment(line, column, end, tuple(codes))
                for line, column, end, codes in data["directives"]
            ),
            {int(line): frozenset(codes) for line, codes in data["covered"].items()},
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
    is_package: bool = False
    # Interprocedural facts are serialised apart (the cache loads them only when the call
    # graph must be rebuilt).
    facts: ModuleFacts = field(default_factory=ModuleFacts)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "lines": self.lines,
            "module": self.module,
            "is_package": self.is_package,
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
            is_package=data["is_package"],
            findings=tuple(Finding.from_json(item) for item in data["findings"]),
            suppressions=Suppressions.from_json(data["suppressions"]),
            inventory=Inventory.from_json(data["inventory"]),
        )
