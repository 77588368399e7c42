"""Review candidates: the grep-style audit a team would otherwise run by hand.

ast-grep finds un-awaited calls of I/O-named methods (`close`, `commit`, `execute`, `read`,
`fetch*`, ...) written directly inside `async def`; those on receivers whose type the
analysis established (and those already reported) are dropped. What is left is listed for a
human to judge, never reported as a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ast_grep_py import Config, SgRoot

from audit.analysis.source import SourceProblem, decode_source


@dataclass(frozen=True)
class Candidate:
    path: str
    line: int
    column: int
    call: str
    method: str


def review_rule(methods: Iterable[str]) -> Config:
    names = "|".join(sorted(set(methods)))
    return {
        "rule": {
            "kind": "call",
            "has": {
                "field": "function",
                "kind": "attribute",
                "all": [
                    {"has": {"field": "attribute", "regex": f"^({names})$"}},
                    # `", ".join(...)`: a literal receiver is never I/O.
                    {"not": {"has": {"field": "object", "kind": "string"}}},
                ],
            },
            # The nearest enclosing function must be an `async def` (a nested sync def or
            # lambda is its own context), and the call must not be awaited.
            "inside": {
                "kind": "function_definition",
                "regex": r"^async\s",
                "stopBy": {"any": [{"kind": "function_definition"}, {"kind": "lambda"}]},
            },
            "not": {"inside": {"kind": "await", "stopBy": "neighbor"}},
        }
    }


def find_candidates(
    files: Mapping[str, bytes],
    methods: Iterable[str],
    known: set[tuple[str, int, int]],
) -> list[Candidate]:
    """Candidates in `files`; `known` holds (path, line, column) of calls to leave out."""
    rule = review_rule(methods)
    found = []
    for path, data in sorted(files.items()):
        if b"async" not in data:
            continue
        text = decode_source(data)
        if isinstance(text, SourceProblem):
            continue
        for match in SgRoot(text, "python").root().find_all(rule):
            start = match.range().start
            line, column = start.line + 1, start.column + 1
            if (path, line, column) in known:
                continue
            function = match.field("function")
            attribute = function.field("attribute") if function is not None else None
            call = " ".join(match.text().split())
            found.append(
                Candidate(
                    path,
                    line,
                    column,
                    call if len(call) <= 70 else call[:67] + "...",
                    attribute.text() if attribute is not None else "",
                )
            )
    return found
