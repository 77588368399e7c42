"""Positions and source text of calls known by ordinal, found only when reported.

The per-file pass identifies calls by their index in the module's call list. The few that
end up in findings are located here by loading their file again, from the same bytes the
run used (so the ordinals still match), once per file for all of its calls; locations of
unchanged files come from the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from audit.analysis.loader import Unloadable, load
from audit.analysis.positions import node_spans
from audit.core.facts import CallLocation
from audit.core.findings import FileSummary
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from audit.interprocedural.context import CallRef


def locate(
    refs: Iterable[CallRef],
    *,
    read: Callable[[str], bytes],
    summaries: Mapping[str, FileSummary],
    known: Mapping[str, Mapping[int, CallLocation]],
    settings: AnalysisSettings,
) -> dict[CallRef, CallLocation]:
    """Locations of the referenced calls; `known` holds locations cached per file."""
    wanted: dict[str, set[int]] = {}
    for ref in refs:
        wanted.setdefault(ref.path, set()).add(ref.call)
    found: dict[CallRef, CallLocation] = {}
    for path, calls in sorted(wanted.items()):
        cached = known.get(path, {})
        missing = {call for call in calls if call not in cached}
        fresh = {}
        if missing and path in summaries:
            summary = summaries[path]
            source = SourceFile(path, summary.module, summary.is_package, read(path))
            fresh = _analyse(source, missing, settings)
        for call in calls:
            location = cached.get(call) or fresh.get(call)
            if location is not None:
                found[CallRef(path, call)] = location
    return found


def _analyse(
    source: SourceFile, calls: set[int], settings: AnalysisSettings
) -> dict[int, CallLocation]:
    ctx = load(source, settings, frozenset())  # where calls are needs no recorder
    if isinstance(ctx, Unloadable):
        return {}
    tree, model = ctx.tree, ctx.model
    nodes = {index: model.calls[index].node for index in calls if index < len(model.calls)}
    spans = node_spans(tree, list(nodes.values()))
    return {
        index: CallLocation(spans[node], " ".join(tree.code_for_node(node.func).split()))
        for index, node in nodes.items()
    }
