"""Run every rule's project-level check over the file summaries and locate what it reports."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from audit.analysis.context import FileContext
from audit.analysis.loader import Unloadable, load
from audit.analysis.positions import node_spans
from audit.core.facts import CallLocation
from audit.core.findings import FileSummary, Finding, Location
from audit.core.libraries import LibraryFile
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from audit.fixes.plan import FixPlan, NoFix
from audit.fixes.realise import anchors, realise
from audit.interprocedural.context import CallRef, Located, ProjectContext, ProjectFinding
from audit.interprocedural.locate import locate
from audit.rules import file_rules, needed_facts
from audit.rules.aud901_internal_error import InternalError
from audit.rules.base import Rule


@dataclass
class ProjectResult:
    findings: list[Finding] = field(default_factory=list)
    locations: dict[str, dict[int, CallLocation]] = field(default_factory=dict)


def project_findings(
    summaries: Iterable[FileSummary],
    read: Callable[[str], bytes],
    nonblocking: frozenset[str] = frozenset(),
    known: Mapping[str, Mapping[int, CallLocation]] | None = None,
    settings: AnalysisSettings | None = None,
    only: frozenset[str] | None = None,
    libraries: Mapping[str, LibraryFile] | None = None,
) -> ProjectResult:
    """`settings` must be those of the per-file pass: files are loaded again to locate
    calls by ordinal, and the target interpreter decides which calls exist. `only`: the
    files whose findings are wanted (the others still complete the call graph);
    `libraries`: which of the summaries are installed libraries' files."""
    settings = settings or AnalysisSettings()
    by_path = {summary.path: summary for summary in summaries}
    context = ProjectContext.build(by_path, nonblocking, only, libraries, settings.target_version)
    pending = [
        found
        for rule in file_rules()
        for found in _project_findings(rule, context)
        if only is None or found.site.path in only
    ]
    refs = {p.site for p in pending} | {hop.call for p in pending for hop in p.hops}
    located = locate(refs, read=read, summaries=by_path, known=known or {}, settings=settings)
    result = ProjectResult()
    for ref, location in located.items():
        result.locations.setdefault(ref.path, {})[ref.call] = location
    where = Located(located)
    reported = [
        (found, _finding(found, site, where))
        for found in pending
        if (site := located.get(found.site)) is not None
    ]
    result.findings.extend(_with_fixes(reported, by_path, read, settings))
    return result


def _project_findings(rule: Rule, context: ProjectContext) -> list[ProjectFinding]:
    """A rule's project findings; a bug in it loses only its own (said on stderr), never
    the run's."""
    try:
        return list(rule.check_project(context))
    except Exception as error:  # a bug in soni-audit: the other rules still report
        print(
            f"soni-audit: internal error in {rule.code}'s project pass, its cross-module "
            f"findings are missing: {InternalError.message(error)}",
            file=sys.stderr,
        )
        return []


def _with_fixes(
    found: list[tuple[ProjectFinding, Finding]],
    summaries: Mapping[str, FileSummary],
    read: Callable[[str], bytes],
    settings: AnalysisSettings,
) -> list[Finding]:
    """The findings with the fixes their rules plan, each file loaded once (only files
    where a finding has a fix to plan)."""
    wanted = sorted({pending.site.path for pending, _ in found if pending.fix is not None})
    contexts: dict[str, FileContext] = {}
    for path in wanted:
        summary = summaries[path]
        source = SourceFile(path, summary.module, summary.is_package, read(path))
        loaded = load(source, settings, needed_facts())
        if not isinstance(loaded, Unloadable):
            contexts[path] = loaded
    fixed = []
    for pending, finding in found:
        ctx = contexts.get(pending.site.path)
        if pending.fix is None or ctx is None or pending.site.call >= len(ctx.model.calls):
            fixed.append(finding)
            continue
        plan = pending.fix(ctx, ctx.model.calls[pending.site.call])
        if isinstance(plan, NoFix):
            fixed.append(replace(finding, no_fix=plan.reason))
        elif isinstance(plan, FixPlan):
            spans = node_spans(ctx.tree, anchors([plan]))
            fixed.append(replace(finding, fix=realise(plan, spans, ctx.text.splitlines())))
        else:
            fixed.append(finding)
    return fixed


def _finding(found: ProjectFinding, site: CallLocation, where: Located) -> Finding:
    span = site.span
    return Finding(
        path=found.site.path,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        code=found.code,
        message=found.message(where),
        function=found.function,
        chain=found.chain,
        related=tuple(_related(hop.call, hop.message, where) for hop in found.hops),
    )


def _related(ref: CallRef, message: str, where: Located) -> Location:
    location = where.locations.get(ref)
    if location is None:  # the file changed or cannot be parsed any more: name the file
        return Location(ref.path, 1, 1, 1, 1, message)
    span = location.span
    return Location(ref.path, span.line, span.column, span.end_line, span.end_column, message)
