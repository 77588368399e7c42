"""Source positions for the few nodes that are reported, without libcst's PositionProvider.

PositionProvider records a range for every node of the file: 3 s per 34k lines here, more
than parsing. Reports need positions for a handful of nodes, so this generates the code once
with a codegen state that tracks only the line and column and records ranges only for the
requested nodes: the whole 140k-line corpus costs 1.5 s, and only files with findings pay it.
The ranges equal PositionProvider's (a test compares them).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress

import libcst as cst
from libcst._nodes.internal import CodegenState

from audit.core.span import Span


class _AllFound(Exception):
    """Raised to stop generating code once every requested node has its span."""


class _TrackingState(CodegenState):
    def __init__(
        self, default_indent: str, default_newline: str, targets: set[cst.CSTNode]
    ) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.targets = targets
        self.remaining = set(targets)
        self.line = 1
        self.column = 0
        self.found: dict[cst.CSTNode, Span] = {}

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        newlines = value.count("\n")
        if newlines:
            self.line += newlines
            self.column = len(value) - value.rfind("\n") - 1
        else:
            self.column += len(value)

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        if node not in self.targets:
            yield
            return
        # Compound statements end where their body does: track the nodes they hoist from.
        for hoisted in (start_node, end_node):
            if hoisted is not None:
                self.targets.add(hoisted)
        line, column = self.line, self.column
        yield
        start = self.found.get(start_node) if start_node is not None else None
        end = self.found.get(end_node) if end_node is not None else None
        self.found[node] = Span(
            start.line if start else line,
            start.column if start else column + 1,
            end.end_line if end else self.line,
            end.end_column if end else self.column + 1,
        )
        self.remaining.discard(node)
        if not self.remaining:
            raise _AllFound


def node_spans(module: cst.Module, nodes: Collection[cst.CSTNode]) -> dict[cst.CSTNode, Span]:
    """Spans of `nodes` (which must belong to `module`), found in one codegen pass that
    stops as soon as the last of them is reached."""
    if not nodes:
        return {}
    state = _TrackingState(module.default_indent, module.default_newline, set(nodes))
    with suppress(_AllFound):
        module._codegen(state)
    return state.found
