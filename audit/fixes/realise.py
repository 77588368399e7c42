"""Planned edits to plain edits: each anchor's position, found in the one position pass the
file's findings already need."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import libcst as cst

from audit.core.findings import Edit, Fix
from audit.core.span import Span
from audit.fixes.plan import FixPlan, PlannedEdit, Where


def anchors(plans: Iterable[FixPlan]) -> list[cst.CSTNode]:
    return [edit.anchor for plan in plans for edit in plan.edits]


def realise(plan: FixPlan, spans: Mapping[cst.CSTNode, Span], lines: Sequence[str]) -> Fix:
    """The plan's edits at the positions of their anchors; `lines` are the file's lines
    (for the indentation of a new line)."""
    return Fix(plan.applicability, plan.message, tuple(_edit(e, spans, lines) for e in plan.edits))


def _edit(planned: PlannedEdit, spans: Mapping[cst.CSTNode, Span], lines: Sequence[str]) -> Edit:
    span = spans[planned.anchor]
    content = planned.content
    if planned.indent:
        line = lines[span.line - 1] if span.line <= len(lines) else ""
        content = line[: span.column - 1] + content
    where = planned.where
    if where is Where.REPLACE:
        return Edit(span.line, span.column, span.end_line, span.end_column, content)
    if where is Where.BEFORE:
        return Edit(span.line, span.column, span.line, span.column, content)
    if where is Where.AFTER:
        return Edit(span.end_line, span.end_column, span.end_line, span.end_column, content)
    if where is Where.LINE_BEFORE:
        return Edit(span.line, 1, span.line, 1, content)
    return Edit(span.end_line + 1, 1, span.end_line + 1, 1, content)
