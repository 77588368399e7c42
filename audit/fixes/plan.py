"""A fix as a rule plans it: edits anchored to nodes of the tree, positioned once for the whole
file (positions cost a code generation pass) and then turned into a `Fix` of plain edits."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.core.findings import Applicability

if TYPE_CHECKING:
    import libcst as cst


class Where(enum.Enum):
    """Where an edit goes, relative to its anchor node."""

    REPLACE = "replace"  # the node's own text
    BEFORE = "before"  # where the node starts
    AFTER = "after"  # where the node ends
    LINE_BEFORE = "line before"  # a new line above the node's first line
    LINE_AFTER = "line after"  # a new line below the node's last line


@dataclass(frozen=True)
class PlannedEdit:
    """`content` placed at `where` of `anchor`. With `indent`, a new line takes the
    indentation of the anchor's line (the anchor is a statement of the block it joins)."""

    anchor: cst.CSTNode
    where: Where
    content: str
    indent: bool = False


@dataclass(frozen=True)
class FixPlan:
    applicability: Applicability
    message: str
    edits: tuple[PlannedEdit, ...]

    def joined(self, extra: tuple[PlannedEdit, ...]) -> FixPlan:
        return FixPlan(self.applicability, self.message, (*self.edits, *extra))


@dataclass(frozen=True)
class NoFix:
    """Why a finding of a fixable rule gets no fix here (shown by `--diff`)."""

    reason: str


Planned = FixPlan | NoFix | None
