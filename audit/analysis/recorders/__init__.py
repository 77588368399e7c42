"""The recorders, one kind of fact each, and the one registry of them."""

from __future__ import annotations

from audit.analysis.facts import Fact, Facts
from audit.analysis.recorder import Recorder
from audit.analysis.recorders.anchors import FixAnchors
from audit.analysis.recorders.calls import Calls
from audit.analysis.recorders.futures import Futures
from audit.analysis.recorders.guards import Guards
from audit.analysis.recorders.iteration import Iteration
from audit.analysis.recorders.parameter_writes import ParameterWrites

RECORDERS: dict[Fact, type[Recorder]] = {
    recorder.fact: recorder
    for recorder in (Calls, Iteration, Guards, Futures, ParameterWrites, FixAnchors)
}


def recorders_for(facts: Facts) -> tuple[type[Recorder], ...]:
    """The recorders of `facts`, in one fixed order (the order hooks are called in)."""
    return tuple(recorder for fact, recorder in RECORDERS.items() if fact in facts)
