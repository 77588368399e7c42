"""The async call surface of each coroutine: blocking calls (from the findings), calls
handed to thread bridges, and awaited async I/O, located for the sync-calls report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from audit.analysis.context import FileContext
from audit.analysis.loader import Unloadable, load
from audit.analysis.positions import node_spans
from audit.analysis.values import FunctionTarget, MethodTarget
from audit.core.findings import Finding
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from audit.interprocedural.collect import offloaded_callable
from audit.interprocedural.project import Project
from audit.rules import BLOCKING, RULE_CODES

BLOCKING_CODES = frozenset(code for code in RULE_CODES if code.startswith(BLOCKING))


@dataclass(frozen=True)
class CallEntry:
    line: int
    column: int
    kind: str  # "blocking", "offloaded" or "async I/O"
    call: str
    detail: str
    code: str = ""


@dataclass
class CoroutineCalls:
    path: str
    function: str
    entries: list[CallEntry] = field(default_factory=list)

    @property
    def line(self) -> int:
        return min(entry.line for entry in self.entries)


@dataclass
class CallSurface:
    coroutines: list[CoroutineCalls]
    typed: set[tuple[str, int, int]]  # calls whose receiver type is known: not candidates


def audit_calls(
    sources: Sequence[SourceFile],
    findings: Iterable[Finding],
    project: Project,
    settings: AnalysisSettings,
    baselined: Iterable[Finding] = (),
) -> CallSurface:
    """The call surface of every coroutine in the checked files (`baselined` findings are
    listed as blocking calls the baseline knows)."""
    coroutines: dict[tuple[str, str], CoroutineCalls] = {}
    typed: set[tuple[str, int, int]] = set()

    def entry_for(path: str, function: str) -> CoroutineCalls:
        key = (path, function)
        if key not in coroutines:
            coroutines[key] = CoroutineCalls(path, function)
        return coroutines[key]

    known = [(finding, "blocking (in the baseline)") for finding in baselined]
    for finding, kind in [*((finding, "blocking") for finding in findings), *known]:
        if finding.code in BLOCKING_CODES and finding.function is not None:
            entry_for(finding.path, finding.function).entries.append(
                CallEntry(finding.line, finding.column, kind, "", finding.message, finding.code)
            )
    for source in sorted(sources, key=lambda source: source.path):
        if b"async" in source.data:
            entries, positions = _surface(source, project, settings)
            for function, entry in entries:
                entry_for(source.path, function).entries.append(entry)
            typed.update((source.path, line, column) for line, column in positions)
    ordered = sorted(coroutines.values(), key=lambda c: (c.path, c.line, c.function))
    for coroutine in ordered:
        coroutine.entries.sort(key=lambda e: (e.line, e.column, e.kind))
    return CallSurface(ordered, typed)


def _surface(
    source: SourceFile, project: Project, settings: AnalysisSettings
) -> tuple[list[tuple[str, CallEntry]], list[tuple[int, int]]]:
    """Entries of one file, and where its calls on receivers of known type are."""
    ctx = load(source, settings)
    if isinstance(ctx, Unloadable):
        return [], []
    tree = ctx.tree
    pending = []
    typed = []
    for call in ctx.loop_calls:
        if call.target is not None:
            typed.append(call.node)
        if call.function is None or call.blocking is not None:
            continue
        offload = offloaded_callable(ctx, call.node, call.site.scope, call.target)
        if offload is not None:
            bridge, written, resolved = offload
            pending.append((call, "offloaded", written, _offload_detail(bridge, resolved, project)))
        elif call.awaited and _is_async_io(ctx, call.target):
            assert call.target is not None
            pending.append((call, "async I/O", ctx.source(call.node.func), call.target.qualified))
    spans = node_spans(tree, [*(call.node for call, *_ in pending), *typed])
    entries = []
    for call, kind, written, detail in pending:
        span = spans[call.node]
        assert call.function is not None
        entries.append((call.function, CallEntry(span.line, span.column, kind, written, detail)))
    return entries, [(spans[node].line, spans[node].column) for node in typed]


def _is_async_io(ctx: FileContext, target: FunctionTarget | MethodTarget | None) -> bool:
    if isinstance(target, MethodTarget) and target.instance.local:
        return False
    if isinstance(target, FunctionTarget) and target.local:
        return False
    return target is not None and ctx.catalogue.is_async_io(target.qualified)


def _offload_detail(bridge: str, resolved: str | None, project: Project) -> str:
    detail = f"runs in a worker thread through `{bridge}`"
    function = project.resolve(resolved) if resolved is not None else None
    blocked = project.blocked.get(function) if function is not None else None
    if function is not None and blocked is not None:
        chain = " -> ".join(
            (
                *(project.display(f) for f in blocked.chain),
                blocked.leaf.target.removeprefix("builtins."),
            )
        )
        detail += f"; it blocks ({chain}), which is why it is offloaded"
    return detail
