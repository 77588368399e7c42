"""The kinds of fact one walk of a module can record, by name.

Each kind is recorded by one recorder (`audit.analysis.recorders`); a rule declares the kinds
it reads (`Rule.needs`), and the walk attaches only the recorders some rule needs. Names, not
classes, so that declaring a need imports nothing of the parser.
"""

from __future__ import annotations

import enum


class Fact(enum.Enum):
    CALLS = "what becomes of each call's result: awaited, returned, handed to another call"
    ITERATION = "where an iterator is iterated: `for`, unpacking, `list(...)`, `yield from`"
    GUARDS = "the conditions each call depends on and the exceptions handled around it"
    FUTURES = "futures known to be done where their result is read"
    PARAMETER_WRITES = "writes to objects reachable from a function's parameters"
    FIX_ANCHORS = "what a fix writes around: top-level imports, calls whose value is looked into"


Facts = frozenset[Fact]

# What a call on the event loop is judged by (`FileContext.loop_calls`): awaited or not, the
# blocking callable it reaches, and whether it blocks where it is made.
LOOP_CALLS: Facts = frozenset({Fact.CALLS, Fact.ITERATION, Fact.GUARDS, Fact.FUTURES})
# What the call graph of the project pass is made of (`interprocedural.collect`).
CALL_GRAPH: Facts = LOOP_CALLS
# What a fix is planned with (`fixes.codemods.Fixer`).
FIXES: Facts = frozenset({Fact.CALLS, Fact.FIX_ANCHORS})
# What the mutation rules judge (`FileContext.parameter_writes`).
WRITES: Facts = frozenset({Fact.PARAMETER_WRITES})
