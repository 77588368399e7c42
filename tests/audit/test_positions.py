"""Our one-pass spans must equal libcst's PositionProvider for every node we may report."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from audit.analysis.positions import node_spans
from tests.conftest import REPO, analyze

SOURCES = sorted((REPO / "audit").rglob("*.py"))


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(
            node, (cst.Call, cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.Attribute)
        ):
            self.nodes.append(node)
        return True


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_spans_match_position_provider(path: Path) -> None:
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    collector = _Collector()
    module.visit(collector)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    spans = node_spans(module, collector.nodes)
    assert len(spans) >= len(collector.nodes)
    for node in collector.nodes:
        r = expected[node]
        span = spans[node]
        assert (span.line, span.column, span.end_line, span.end_column) == (
            r.start.line,
            r.start.column + 1,
            r.end.line,
            r.end.column + 1,
        )


def test_finding_columns_are_one_based_and_end_exclusive() -> None:
    code = "import time\n\nasync def f():\n    x = [\n        time.sleep(1)]\n"
    (finding,) = analyze(code)
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (5, 9, 5, 22)


def test_multiline_call_spans_lines() -> None:
    code = "import time\n\nasync def f():\n    time.sleep(\n        1,\n    )\n"
    (finding,) = analyze(code)
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (4, 5, 6, 6)
