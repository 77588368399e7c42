"""The per-file pass: bytes in, a serialisable `FileSummary` out.

Pure (no I/O, no global state) so it can run in a process pool and be cached by content.
A file that cannot be decoded or parsed yields an AUD900 finding; a failure of the analyser
itself yields AUD901. Neither stops the run.
"""

from __future__ import annotations

import traceback

from audit.analysis.context import FileContext, RawFinding
from audit.analysis.positions import node_spans
from audit.analysis.settings import AnalysisSettings
from audit.analysis.source import SourceProblem, decode_source, parse_source
from audit.catalogue import default_catalogue
from audit.findings import FileSummary, Finding, Suppressions
from audit.noqa import parse_suppressions
from audit.rules import FILE_RULES


def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def analyze_file(
    data: bytes, *, path: str, module: str, is_package: bool, settings: AnalysisSettings
) -> FileSummary:
    lines = count_lines(data)
    text = decode_source(data)
    if isinstance(text, SourceProblem):
        return _problem(path, lines, "AUD900", text, Suppressions())
    suppressions = parse_suppressions(text)
    tree = parse_source(text)
    if isinstance(tree, SourceProblem):
        return _problem(path, lines, "AUD900", tree, suppressions)
    ctx = FileContext(
        path=path,
        module_name=module,
        is_package=is_package,
        text=text,
        tree=tree,
        catalogue=default_catalogue(),
        settings=settings,
    )
    try:
        raw: list[RawFinding] = [found for rule in FILE_RULES for found in rule.check(ctx)]
        spans = node_spans(tree, [found.node for found in raw])
    except RecursionError:
        problem = SourceProblem("too deeply nested to analyse")
        return _problem(path, lines, "AUD900", problem, suppressions)
    except Exception as error:  # a bug in soni-audit: report it on this file and go on
        where = traceback.extract_tb(error.__traceback__)[-1]
        problem = SourceProblem(
            f"soni-audit failed on this file: {type(error).__name__}: {error} "
            f"(at {where.filename.rpartition('/')[2]}:{where.lineno})"
        )
        return _problem(path, lines, "AUD901", problem, suppressions)
    findings = []
    for found in raw:
        span = spans[found.node]
        findings.append(
            Finding(
                path=path,
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
                code=found.code,
                message=found.message,
                function=found.function,
            )
        )
    return FileSummary(path, lines, tuple(sorted(findings)), suppressions)


def _problem(
    path: str, lines: int, code: str, problem: SourceProblem, suppressions: Suppressions
) -> FileSummary:
    finding = Finding(
        path=path,
        line=problem.line,
        column=problem.column,
        end_line=problem.line,
        end_column=problem.column + 1,
        code=code,
        message=problem.message,
    )
    return FileSummary(path, lines, (finding,), suppressions)
