"""Positions and source text of calls known by ordinal, found only when reported.

The per-file pass identifies calls by their index in the module's call list. The few that
end up in findings are located here by analysing their file again, from the same bytes the
run used (so the ordinals still match), once per file for all of its calls; locations of
unchanged files come from the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from audit.analysis.positions import node_spans
from audit.analysis.source import SourceProblem, decode_source, parse_source
from audit.analysis.walker import ModuleWalker
from audit.interprocedural.context import CallRef
from audit.interprocedural.facts import CallLocation


def locate(
    refs: Iterable[CallRef],
    *,
    read: Callable[[str], bytes],
    modules: Mapping[str, str],
    known: Mapping[str, Mapping[int, CallLocation]],
) -> dict[CallRef, CallLocation]:
    """Locations of the referenced calls; `known` holds locations cached per file."""
    wanted: dict[str, set[int]] = {}
    for ref in refs:
        wanted.setdefault(ref.path, set()).add(ref.call)
    found: dict[CallRef, CallLocation] = {}
    for path, calls in sorted(wanted.items()):
        cached = known.get(path, {})
        missing = {call for call in calls if call not in cached}
        fresh = _analyse(read(path), path, modules.get(path, ""), missing) if missing else {}
        for call in calls:
            location = cached.get(call) or fresh.get(call)
            if location is not None:
                found[CallRef(path, call)] = location
    return found


def _analyse(data: bytes, path: str, module: str, calls: set[int]) -> dict[int, CallLocation]:
    text = decode_source(data)
    if isinstance(text, SourceProblem):
        return {}
    tree = parse_source(text)
    if isinstance(tree, SourceProblem):
        return {}
    model = ModuleWalker(module, path.endswith("__init__.py")).run(tree)
    nodes = {index: model.calls[index].node for index in calls if index < len(model.calls)}
    spans = node_spans(tree, list(nodes.values()))
    return {
        index: CallLocation(spans[node], " ".join(tree.code_for_node(node.func).split()))
        for index, node in nodes.items()
    }
