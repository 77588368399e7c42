"""The per-file pass: a source file in, a serialisable `FileSummary` out.

Pure (no I/O, no global state) so it can run in a process pool and be cached by content.
A file that cannot be decoded or parsed yields an AUD900 finding; a failure of the analyser
itself yields AUD901. Neither stops the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from audit.analysis.loader import Unloadable, load
from audit.analysis.noqa import parse_suppressions
from audit.analysis.positions import node_spans
from audit.analysis.source import SourceProblem
from audit.core.findings import FileSummary, Finding, Suppressions
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from audit.fixes.plan import FixPlan, NoFix
from audit.fixes.realise import anchors, realise
from audit.interprocedural import collect as call_graph
from audit.rules import file_rules, needed_facts
from audit.rules.aud900_parse_error import ParseError
from audit.rules.aud901_internal_error import InternalError
from audit.rules.base import RawFinding, Rule


def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def analyze_file(
    source: SourceFile, settings: AnalysisSettings, rules: Sequence[Rule] | None = None
) -> FileSummary:
    """The file's summary from every rule (cached so, whatever is selected), or from
    `rules` alone: its walk then records only what they and the call graph need."""
    lines = count_lines(source.data)
    summary = FileSummary(source.path, lines, module=source.module, is_package=source.is_package)
    needs = needed_facts() if rules is None else frozenset().union(*(r.needs for r in rules))
    rules = file_rules() if rules is None else rules
    try:
        ctx = load(source, settings, needs | call_graph.NEEDS)
    except Exception as error:  # a bug in soni-audit: report it on this file and go on
        problem = SourceProblem(InternalError.message(error))
        return _problem(summary, InternalError.code, problem, Suppressions())
    if isinstance(ctx, Unloadable):
        suppressions = parse_suppressions(ctx.text) if ctx.text is not None else Suppressions()
        return _problem(summary, ParseError.code, ctx.problem, suppressions)
    suppressions = parse_suppressions(ctx.text)
    try:
        raw: list[RawFinding] = [found for rule in rules for found in rule.check(ctx)]
        inventory = ctx.inventory
        facts = call_graph.collect(ctx)
        plans = [found.fix for found in raw if isinstance(found.fix, FixPlan)]
        located = [n for found in raw for n in (found.node, found.def_node) if n is not None]
        spans = node_spans(ctx.tree, [*located, *anchors(plans)])
    except RecursionError:
        problem = SourceProblem(ParseError.TOO_DEEP)
        return _problem(summary, ParseError.code, problem, suppressions)
    except Exception as error:  # a bug in soni-audit: report it on this file and go on
        problem = SourceProblem(InternalError.message(error))
        return _problem(summary, InternalError.code, problem, suppressions)
    findings = []
    text_lines = ctx.text.splitlines() if plans else []
    for found in raw:
        span = found.span if found.node is None else spans[found.node]
        assert span is not None, f"{found.code} finding without a position"
        if found.def_node is not None:
            suppressions = _extend_to_body(
                suppressions, spans[found.def_node].line, span.line, found.code
            )
        findings.append(
            Finding(
                path=source.path,
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
                code=found.code,
                message=found.message,
                function=found.function,
                fix=realise(found.fix, spans, text_lines)
                if isinstance(found.fix, FixPlan)
                else None,
                no_fix=found.fix.reason if isinstance(found.fix, NoFix) else None,
            )
        )
    if settings.pattern_rules:
        from audit.rules.patterns import pattern_findings

        findings.extend(pattern_findings(ctx.text, source.path, settings.pattern_rules))
    return FileSummary(
        source.path,
        lines,
        tuple(sorted(findings)),
        suppressions,
        source.module,
        inventory,
        source.is_package,
        facts,
    )


def _extend_to_body(
    suppressions: Suppressions, def_line: int, line: int, code: str
) -> Suppressions:
    """A `# noqa` on a `def` line covers the function's body for function-wide rules."""
    codes = suppressions.lines.get(def_line)
    if codes is None or (codes and not any(code.startswith(c) for c in codes)):
        return suppressions
    existing = suppressions.lines.get(line)
    if existing is not None and (not existing or code in existing):
        return suppressions  # the finding's own line suppresses it
    widened = (existing or frozenset()) | {code}
    covered = {**suppressions.covered}
    covered[def_line] = covered.get(def_line, frozenset()) | {code}
    return dataclasses.replace(
        suppressions, lines={**suppressions.lines, line: widened}, covered=covered
    )


def _problem(
    summary: FileSummary, code: str, problem: SourceProblem, suppressions: Suppressions
) -> FileSummary:
    finding = Finding(
        path=summary.path,
        line=problem.line,
        column=problem.column,
        end_line=problem.line,
        end_column=problem.column + 1,
        code=code,
        message=problem.message,
    )
    return FileSummary(
        summary.path,
        summary.lines,
        (finding,),
        suppressions,
        summary.module,
        is_package=summary.is_package,
    )
