"""Run every rule's project-level check over the file summaries and locate what it reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from audit.findings import FileSummary, Finding
from audit.interprocedural.context import CallRef, PendingFinding, ProjectContext
from audit.interprocedural.facts import CallLocation
from audit.interprocedural.locate import locate


@dataclass
class ProjectResult:
    findings: list[Finding] = field(default_factory=list)
    locations: dict[str, dict[int, CallLocation]] = field(default_factory=dict)


def project_findings(
    summaries: Iterable[FileSummary],
    read: Callable[[str], bytes],
    nonblocking: frozenset[str] = frozenset(),
    known: Mapping[str, Mapping[int, CallLocation]] | None = None,
) -> ProjectResult:
    from audit.rules import FILE_RULES

    by_path = {summary.path: summary for summary in summaries}
    context = ProjectContext.build(by_path, nonblocking)
    pending = [found for rule in FILE_RULES for found in rule.check_project(context)]
    refs = {p.site for p in pending} | {ref for p in pending for ref in p.places.values()}
    modules = {path: summary.module for path, summary in by_path.items()}
    located = locate(refs, read=read, modules=modules, known=known or {})
    result = ProjectResult()
    for ref, location in located.items():
        result.locations.setdefault(ref.path, {})[ref.call] = location
    for found in pending:
        site = located.get(found.site)
        if site is not None:
            result.findings.append(_finding(found, site, located))
    return result


def _finding(
    found: PendingFinding, site: CallLocation, located: Mapping[CallRef, CallLocation]
) -> Finding:
    receiver = site.text.rpartition(".")[0] or site.text
    message = found.message.replace("{call}", site.text).replace("{receiver}", receiver)
    for name, ref in found.places.items():
        place = located.get(ref)
        where = f"{ref.path}:{place.span.line}" if place is not None else ref.path
        message = message.replace("{" + name + "}", where)
    span = site.span
    return Finding(
        path=found.site.path,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        code=found.code,
        message=message,
        function=found.function,
        chain=found.chain,
    )
