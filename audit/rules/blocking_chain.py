"""What BLK103 and BLK105 share: a call of a project function that reaches a blocking call
through a chain of sync functions, reported with every hop as a related location and fixed by
running the call in a worker thread."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from audit.core.facts import Leaf
from audit.core.libraries import Library
from audit.fixes.plan import NoFix
from audit.interprocedural.chain import Blocked
from audit.interprocedural.context import CallRef, Hop, Located, ProjectContext, ProjectFinding
from audit.interprocedural.project import Project
from audit.rules.base import fixer
from audit.rules.blk104_configured_blocking import REASON as CONFIGURED_REASON

if TYPE_CHECKING:
    from audit.analysis.context import FileContext
    from audit.analysis.model import CallSite
    from audit.fixes.plan import Planned

OFFLOAD = """
Unsafe: the call moves to a worker thread, `helper(a)` becoming
`await asyncio.to_thread(helper, a)` (the bridge of the async library the module uses).
Making the chain async is the better repair, and one only its authors can make.
"""


def chain_findings(
    code: str, project: ProjectContext, *, conditional: bool, libraries: bool | None = False
) -> Iterator[ProjectFinding]:
    """A finding at every call, made on the event loop, of a function that blocks on its
    ordinary path, or (`conditional`) only on some paths; with `libraries` True only
    chains that enter an installed library's code, with False only those that stay in the
    project, with None both."""
    graph = project.project
    for located, edge in graph.async_calls():
        ran = graph.runs(edge)
        if ran is None:
            continue
        callee, guard = ran
        found = graph.blocked.get(callee)
        if found is None and guard is None:
            judged = graph.in_context(edge)
            if judged is False:  # what it passes skips every blocking branch
                continue
            found = judged if judged is not True else None
        if found is None and conditional:
            found = graph.may_block.get(callee)
        if found is None:
            continue
        if guard is not None:  # a generator the coroutine hands on without iterating
            found = replace(found, condition=(located.facts.qualname, guard))
        if found.condition is not None and not conditional:
            continue
        if found.condition is None and conditional:
            continue
        entered = _libraries(project, found.chain)
        if libraries is not None and bool(entered) != libraries:
            continue
        caller = graph.display(located.facts.qualname)
        names = [_name(project, function) for function in found.chain]
        target = found.leaf.target.removeprefix("builtins.")
        chain = (caller, *names, target)
        leaf = CallRef(graph.functions[found.chain[-1]].path, found.leaf.call)
        shown = project.libraries.get(leaf.path)
        place = _Place(leaf, shown.shown if shown is not None else leaf.path)
        site = CallRef(located.path, edge.call)
        condition = None
        if found.condition is not None:
            condition = (graph.display(found.condition[0]), found.condition[1])
        # Running a generator function in a thread only makes the generator there.
        generator = graph.functions[callee].facts.is_generator
        yield ProjectFinding(
            code,
            site,
            functools.partial(
                _message,
                site,
                chain,
                place,
                found.leaf,
                condition,
                generator,
                entered,
                found.every_path,
            ),
            caller,
            chain,
            _hops(graph, found, names, target),
            fix=_no_offload if generator else offload_fix,
        )


@dataclass(frozen=True)
class _Place:
    """The blocking call, and its file as a message shows it (`httpx/_config.py` for an
    installed library's file)."""

    call: CallRef
    shown: str

    def at(self, where: Located) -> str:
        location = where.locations.get(self.call)
        return f"{self.shown}:{location.span.line}" if location is not None else self.shown


def _libraries(project: ProjectContext, chain: tuple[str, ...]) -> tuple[Library, ...]:
    """The installed libraries a chain runs through, in order."""
    found: list[Library] = []
    for function in chain:
        entry = project.libraries.get(project.project.functions[function].path)
        if entry is not None and entry.library not in found:
            found.append(entry.library)
    return tuple(found)


def _name(project: ProjectContext, function: str) -> str:
    """A project function by its name in its module; a library's by its qualified name."""
    graph = project.project
    return (
        function if graph.functions[function].path in project.libraries else graph.display(function)
    )


def _message(
    site: CallRef,
    chain: tuple[str, ...],
    leaf: _Place,
    blocking: Leaf,
    condition: tuple[str, str] | None,
    generator: bool,
    libraries: tuple[Library, ...],
    every_path: bool,
    where: Located,
) -> str:
    call = where.written(site)
    reason, alternative = why(blocking)
    verb = "blocks the event loop"
    if libraries:
        verb += " inside " + ", ".join(f"`{library}`" for library in libraries)
    when = (
        "; one of its paths given the arguments passed here, all of which block"
        if every_path
        else ""
    )
    if condition is not None:
        verb = "may block the event loop"
        when = f"; only on some paths: in `{condition[0]}`, {condition[1]}"
    remedy = f"run it with `await asyncio.to_thread({call}, ...)`"
    if generator:
        verb += " as it is iterated"
        remedy = f"consume it in a worker thread (`await asyncio.to_thread(list, {call}(...))`)"
    return (
        f"`{call}()` {verb}: {' -> '.join(chain)} "
        f"(`{chain[-1]}` at {leaf.at(where)} {reason}{when}); {remedy} "
        f"or make the chain async (for the leaf: {alternative})"
    )


def _no_offload(ctx: FileContext, site: CallSite) -> Planned:
    return NoFix("the callee is a generator: a thread would only make the generator")


def offload_fix(ctx: FileContext, site: CallSite) -> Planned:
    written = ctx.source(site.node.func)
    return fixer(ctx).offload(site, f"run `{written}()` in a worker thread")


def why(leaf: Leaf) -> tuple[str, str]:
    """Why the leaf blocks and what to use instead, from the catalogue or the project."""
    from audit.catalogue import default_catalogue

    family = default_catalogue().families.get(leaf.family or "")
    if family is not None:
        return family.reason, family.alternative
    return CONFIGURED_REASON, leaf.configured or ""


def _hops(graph: Project, blocked: Blocked, names: list[str], target: str) -> tuple[Hop, ...]:
    """One related location per step down the chain: each function's call of the next,
    then the blocking call."""
    hops = []
    for index, call in enumerate(blocked.calls):
        path = graph.functions[blocked.chain[index]].path
        hops.append(Hop(CallRef(path, call), f"`{names[index]}` calls `{names[index + 1]}`"))
    path = graph.functions[blocked.chain[-1]].path
    reason, _ = why(blocked.leaf)
    hops.append(
        Hop(CallRef(path, blocked.leaf.call), f"`{names[-1]}` calls `{target}`, which {reason}")
    )
    return tuple(hops)
