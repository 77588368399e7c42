"""The facts the walk's core records: scopes, bindings, classes, functions and call sites.

The walker fills these in (recorders keep the other kinds of fact); the resolver answers
questions about them afterwards, once every binding of every scope is known (Python decides
at compile time which names are local, so a call can only be resolved after its whole
function has been seen).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst


class ScopeKind(enum.Enum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    LAMBDA = "lambda"
    COMPREHENSION = "comprehension"


class BindingKind(enum.Enum):
    IMPORT = "import"
    PARAM = "param"
    ASSIGN = "assign"
    ANNOTATED = "annotated"
    DEF = "def"
    CLASS = "class"
    WITH = "with"
    ASYNC_WITH = "async with"
    OTHER = "other"


@dataclass(frozen=True)
class Point:
    """A place in the walk: `order` counts bindings and calls in source order; `regions`
    are the branches, loops and handlers around it (outermost first) and `loops` those of
    them that may run again. A binding reaches a later point of its block unless a binding
    in the same or an enclosing region comes between."""

    order: int
    regions: tuple[int, ...] = ()
    loops: frozenset[int] = frozenset()

    def encloses(self, other: Point) -> bool:
        """Every region around self is around `other` too (self dominates other when it
        also comes first)."""
        return other.regions[: len(self.regions)] == self.regions

    def shares_loop(self, other: Point) -> bool:
        return bool(self.loops & other.loops)


@dataclass(eq=False)
class Binding:
    """One place where a name is bound.

    `value` is the expression assigned (or the context manager of a `with`), `annotation` the
    declared type; both are resolved in `scope`, the scope that evaluates them.
    """

    name: str
    kind: BindingKind
    scope: Scope
    target: str | None = None
    value: cst.BaseExpression | None = None
    annotation: cst.BaseExpression | None = None
    is_self: bool = False
    is_cls: bool = False
    point: Point | None = None  # where in the function's flow it happens
    typing_only: bool = False  # under `if TYPE_CHECKING:`: names a type, never runs


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    name: str
    qualname: str
    parent: Scope | None
    is_async: bool = False
    is_generator: bool = False  # a `def` with `yield`: calling it runs none of its body
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    class_info: ClassInfo | None = None

    @property
    def runs_on_loop(self) -> bool:
        """True when code written directly in this scope runs in a coroutine's frame.

        Class bodies and comprehensions run where they are written, so they inherit the
        context of their enclosing scope; a lambda or sync `def` is its own (sync) context.
        """
        scope: Scope | None = self
        while scope is not None:
            if scope.kind is ScopeKind.FUNCTION:
                return scope.is_async
            if scope.kind in (ScopeKind.LAMBDA, ScopeKind.MODULE):
                return False
            scope = scope.parent
        return False

    @property
    def function_qualname(self) -> str | None:
        """The `__qualname__` of the innermost function or lambda, or None at module level."""
        scope: Scope | None = self
        while scope is not None:
            if scope.kind in (ScopeKind.FUNCTION, ScopeKind.LAMBDA):
                return scope.qualname
            scope = scope.parent
        return None

    def child_qualname(self, name: str) -> str:
        """The `__qualname__` of something named `name` defined directly in this scope."""
        if self.kind is ScopeKind.MODULE:
            return name
        if self.kind in (ScopeKind.FUNCTION, ScopeKind.LAMBDA):
            return f"{self.qualname}.<locals>.{name}"
        return f"{self.qualname}.{name}"

    def bind(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)


@dataclass(eq=False)
class ClassInfo:
    """A class defined in the module and what its instances hold.

    `attributes` maps an attribute name to the expressions stored in it: `self.x = value` in
    any method, and annotations or assignments in the class body.
    """

    qualname: str
    scope: Scope
    node: cst.ClassDef
    attributes: dict[str, list[Binding]] = field(default_factory=dict)

    def add_attribute(self, binding: Binding) -> None:
        self.attributes.setdefault(binding.name, []).append(binding)


@dataclass(frozen=True)
class Parameter:
    """A parameter the mutation rules check (not self/cls, *args or **kwargs)."""

    name: str
    annotation: cst.BaseExpression | None
    default: cst.BaseExpression | None


@dataclass(eq=False)
class FunctionInfo:
    """A function or lambda and its checked parameters."""

    scope: Scope
    node: cst.FunctionDef | cst.Lambda
    parameters: dict[str, Parameter]

    @property
    def name_node(self) -> cst.CSTNode:
        return self.node.name if isinstance(self.node, cst.FunctionDef) else self.node


class CallPlace(enum.Enum):
    """Where in its scope a call is written, which decides how it could be rewritten."""

    BODY = "body"
    WITH_ITEM = "a `with` header"
    DEFINITION = "a decorator, default value, annotation or class base"


class GuardKind(enum.Enum):
    """Why a call is off its function's ordinary path; `{}` is the deciding code."""

    IF = "under `if {}`"
    ELSE = "under the `else` of `if {}`"
    AFTER_RETURN = "after the early `return` under `if {}`"
    LOOP = "in a loop over `{}` that may not run"
    WHILE = "in a `while {}` loop that may not run"
    EXCEPT = "in an `except {}` handler"
    CASE = "in a `case` of `match {}`"
    OPERAND = "only evaluated when `{}` is true"
    ALTERNATIVE = "only evaluated when `{}` is false"
    BRANCH = "in the branch of a conditional expression taken when `{}` is true"
    BRANCH_ELSE = "in the branch of a conditional expression taken when `{}` is false"


@dataclass(frozen=True, eq=False)
class Guard:
    """The condition a call depends on: its kind and the code that decides it (the test,
    the iterable, the exception type; None for a bare `except`)."""

    kind: GuardKind
    decided_by: cst.CSTNode | None

    def describe(self, render: Callable[[cst.CSTNode], str]) -> str:
        if self.decided_by is None:
            return "in a bare `except` handler"
        return self.kind.value.format(render(self.decided_by))


@dataclass(eq=False)
class CallSite:
    """A call that runs (not one under `if TYPE_CHECKING:`): its scope, the kind of place it
    is written in, and its point in the walk. What else is known of it (awaited, iterated,
    the condition it depends on) is kept by the recorders, by node."""

    node: cst.Call
    scope: Scope
    place: CallPlace
    point: Point


@dataclass(frozen=True, eq=False)
class ImportRecord:
    """An import statement: the names it binds (`(local name, qualified name)` pairs) and,
    for an import on its own top-level line, the index of that statement in the module's
    body (None inside a function, a class or a block such as `if TYPE_CHECKING:`)."""

    node: cst.Import | cst.ImportFrom
    bound: tuple[tuple[str, str], ...]
    statement: int | None


@dataclass(eq=False)
class ModuleModel:
    """What the walk's core learnt about one module."""

    name: str
    module_scope: Scope
    calls: list[CallSite] = field(default_factory=list)
    sites: dict[int, CallSite] = field(default_factory=dict)  # the calls, by node id
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    imported: set[str] = field(default_factory=set)
    functions: list[FunctionInfo] = field(default_factory=list)
    decorators: list[tuple[cst.Decorator, Scope]] = field(default_factory=list)
    annotations: list[tuple[cst.BaseExpression, Scope]] = field(default_factory=list)
