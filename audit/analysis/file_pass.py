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
from audit.interprocedural.collect import collect
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
        return _problem(path, lines, "AUD900", text, Suppressions(), module)
    suppressions = parse_suppressions(text)
    tree = parse_source(text)
    if isinstance(tree, SourceProblem):
        return _problem(path, lines, "AUD900", tree, suppressions, module)
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
        inventory = ctx.inventory
        facts = collect(ctx)
        located = [n for found in raw for n in (found.node, found.def_node) if n is not None]
        spans = node_spans(tree, located)
    except RecursionError:
        problem = SourceProblem("too deeply nested to analyse")
        return _problem(path, lines, "AUD900", problem, suppressions, module)
    except Exception as error:  # a bug in soni-audit: report it on this file and go on
        where = traceback.extract_tb(error.__traceback__)[-1]
        problem = SourceProblem(
            f"soni-audit failed on this file: {type(error).__name__}: {error} "
            f"(at {where.filename.rpartition('/')[2]}:{where.lineno})"
        )
        return _problem(path, lines, "AUD901", problem, suppressions, module)
    findings = []
    for found in raw:
        span = found.span if found.node is None else spans[found.node]
        assert span is not None, f"{found.code} finding without a position"
        if found.def_node is not None:
            suppressions = _extend_to_body(
                suppressions, spans[found.def_node].line, span.line, found.code
            )
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
    if settings.pattern_rules:
        from audit.patterns import pattern_findings

        findings.extend(pattern_findings(text, path, settings.pattern_rules))
    return FileSummary(path, lines, tuple(sorted(findings)), suppressions, module, inventory, facts)


def _extend_to_body(
    suppressions: Suppressions, def_line: int, line: int, code: str
) -> Suppressions:
    """A `# noqa` on a `def` line covers the function's body for function-wide rules."""
    codes = suppressions.lines.get(def_line)
    if codes is None or (codes and not any(code.startswith(c) for c in codes)):
        return suppressions
    existing = suppressions.lines.get(line)
    if existing is not None and (not existing or code in existing):
        return suppressions
    widened = (existing or frozenset()) | {code}
    return Suppressions({**suppressions.lines, line: widened}, suppressions.file)


def _problem(
    path: str,
    lines: int,
    code: str,
    problem: SourceProblem,
    suppressions: Suppressions,
    module: str = "",
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
    return FileSummary(path, lines, (finding,), suppressions, module)
