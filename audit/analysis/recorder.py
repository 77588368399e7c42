"""The shape of a recorder: what one walk of a module tells it, and what it may read.

The walk (`walker.ModuleWalker`) keeps what every fact needs: scopes, bindings, where in the
control flow each binding and call is, and what local names hold (the alias flow). It tells
its recorders about the code it passes through hooks; a recorder overrides the hooks it needs
and owns the facts it derives from them. Hooks a recorder does not override cost nothing:
the walk looks them up once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

import libcst as cst

from audit.analysis.constants import ConditionReader
from audit.analysis.facts import Fact
from audit.analysis.flow import AliasFlow
from audit.analysis.model import (
    CallSite,
    FunctionInfo,
    GuardKind,
    ImportRecord,
    ModuleModel,
    Scope,
)
from audit.catalogue import Catalogue


class Walk(Protocol):
    """What a recorder may read of the walk in progress."""

    @property
    def scope(self) -> Scope: ...

    @property
    def flow(self) -> AliasFlow: ...

    @property
    def conditions(self) -> ConditionReader: ...

    @property
    def model(self) -> ModuleModel: ...

    @property
    def catalogue(self) -> Catalogue: ...


class Recorder:
    """Records one kind of fact (`fact`) as the walk passes the code that shows it."""

    fact: ClassVar[Fact]

    def __init__(self, walk: Walk) -> None:
        self.walk = walk

    # -- calls ---------------------------------------------------------------------------

    def call(self, site: CallSite) -> None:
        """A call that runs (not one under `if TYPE_CHECKING:`), before its callee and
        arguments are walked."""

    def called(self, node: cst.Call) -> None:
        """Any call, once its callee and arguments have been walked."""

    def looked_into(self, call: cst.Call) -> None:
        """The value of `call` is looked into: `f().x`, `f()[k]`, `f()()`."""

    def awaiting(self, node: cst.Await) -> None:
        """An `await`, before its expression is walked."""

    def awaited(self, node: cst.Await) -> None:
        """An `await`, once its expression has been walked."""

    def leaving(self, node: cst.Return | cst.Raise) -> None:
        """A `return` or `raise`, once its value has been walked."""

    def iterates(self, expr: cst.BaseExpression) -> None:
        """The code iterates `expr` here: a `for` or comprehension, unpacking, `*expr`,
        `yield from`, or entering a sync `with` (a `@contextmanager` generator runs)."""

    # -- writes --------------------------------------------------------------------------

    def stores(self, target: cst.BaseExpression, statement: cst.CSTNode) -> None:
        """`statement` assigns to or deletes `target` (not a bare name)."""

    def augments(self, node: cst.AugAssign) -> None:
        """An augmented assignment, once its value has been walked."""

    # -- structure -----------------------------------------------------------------------

    def imported(self, record: ImportRecord) -> None:
        """An import statement."""

    def function_entered(self, info: FunctionInfo) -> None:
        """A function's or lambda's body is about to be walked."""

    def function_left(self, info: FunctionInfo) -> None:
        """A function's or lambda's body has been walked."""

    def class_entered(self) -> None:
        """A class body (not a function: nothing flows there) is about to be walked."""

    def class_left(self) -> None:
        """A class body has been walked."""

    # -- control flow --------------------------------------------------------------------

    def region_entered(self, kind: GuardKind, decided_by: cst.CSTNode | None) -> None:
        """Code that runs only on a condition starts (a branch, a loop body, a handler)."""

    def region_left(self) -> None:
        """The code of the innermost region ends."""

    def assumes(self, test: cst.BaseExpression, value: bool) -> None:
        """From here `test` is known to be `value`: the branch of an `if` taken on it, or
        after a `while` loop on it."""

    def trying(self, handlers: Sequence[cst.ExceptHandler | cst.ExceptStarHandler]) -> None:
        """The body of a `try` with these handlers starts."""

    def tried(self) -> None:
        """The body of the innermost `try` ends (its handlers run outside it)."""

    def block_entered(self) -> None:
        """The statements of an indented block start."""

    def statement_walked(self, statement: cst.BaseStatement) -> None:
        """A statement of the innermost block has been walked."""

    def block_left(self) -> None:
        """The statements of the innermost block end."""


class FlowRecorder(Recorder):
    """A recorder whose facts depend on the path taken through a function: its state
    follows the alias flow through branches (snapshots are taken and merged together)."""

    def snapshot(self) -> object:
        raise NotImplementedError

    def restore(self, snapshot: object | None) -> None:
        """Continue from `snapshot` (None: a path that cannot be reached)."""
        raise NotImplementedError

    def join(self, live: Sequence[object]) -> None:
        """Continue with what holds on every one of the live paths."""
        raise NotImplementedError


# The hooks, by name, for the walk to find which ones a recorder overrides.
HOOKS = tuple(
    name for name, value in vars(Recorder).items() if callable(value) and not name.startswith("_")
)
