"""Name resolution and light type inference over a `ModuleModel`.

Answers "what does this expression refer to?" with an abstract value: an object known by its
qualified name (`Ref`), an instance of a known type (`Instance`), or a method bound to such an
instance (`BoundMethod`); None when unsure. Precision comes first: a name bound in several
places with different values resolves to None rather than to a guess.

A second resolver, `deferred=True`, serves the project pass: where a value comes from a
callable of another module that nothing here describes (`FS()`, `make_client()`), it answers
with a deferred type, the call itself (`app.fs.FS()`), which the project pass resolves
against the summary of the module that defines it (a class, or a function's return
annotation). The rules of a single file never see deferred types.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import libcst as cst

from audit.analysis.annotations import AnnotationReader
from audit.analysis.model import (
    Binding,
    BindingKind,
    CallSite,
    ClassInfo,
    ModuleModel,
    Point,
    Scope,
    ScopeKind,
)
from audit.analysis.names import is_property
from audit.analysis.values import (
    BoundMethod,
    CallTarget,
    Evidence,
    FunctionTarget,
    Instance,
    MethodTarget,
    Ref,
    TypeOrigin,
    Value,
)
from audit.catalogue import Catalogue

_BUILTIN_NAMES = frozenset(dir(builtins))
_OPAQUE = (cst.Call, cst.Name, cst.Attribute, cst.Await, cst.Subscript)
_TYPING_FORMS = frozenset({"Optional", "Union", "Annotated", "Final", "ClassVar"})
_NONE = Ref("builtins.None")
_MISSING = Ref("<missing>")
_ALTERNATIVES = (cst.BooleanOperation, cst.IfExp)
_SILENT_ANNOTATIONS = frozenset({"typing.Any", "typing_extensions.Any", "builtins.object"})
STANDARD_LIBRARY = frozenset(sys.stdlib_module_names) | {"builtins"}
"""Roots of names that are never the project's own."""


def is_deferred(type_name: str) -> bool:
    """A type the project pass still has to resolve (`app.fs.FS()`, `app.fs.make().cache`)."""
    return "()" in type_name


class Resolver:
    def __init__(
        self,
        model: ModuleModel,
        catalogue: Catalogue,
        extra_types: frozenset[str] = frozenset(),
        *,
        deferred: bool = False,
    ) -> None:
        self.model = model
        self.catalogue = catalogue
        self.extra_types = extra_types
        self.deferred = deferred
        self._classes = {self.local_name(q): info for q, info in model.classes.items()}
        self._functions = {
            self.local_name(info.scope.qualname): info
            for info in model.functions
            if isinstance(info.node, cst.FunctionDef)
        }
        self._binding_values: dict[int, Value | None] = {}
        self._in_progress: set[int] = set()
        self._at: tuple[Point, Scope] | None = None  # where the names looked up are read
        self.annotations = AnnotationReader(self._named)

    def _named(self, expr: cst.BaseExpression, scope: Scope) -> tuple[str, bool] | None:
        value = self.value(expr, scope)
        if not isinstance(value, Ref):
            return None
        if value.spelled and "." not in value.qualified:
            # A bare name bound nowhere says nothing about a type, except the typing forms
            # a snippet uses without importing them (`Optional[httpx.Client]`).
            if value.qualified not in _TYPING_FORMS:
                return None
            return f"typing.{value.qualified}", False
        return value.qualified, value.local

    def local_class(self, qualified: str) -> ClassInfo | None:
        return self._classes.get(qualified)

    def local_name(self, qualname: str) -> str:
        return f"{self.model.name}.{qualname}" if self.model.name else qualname

    # -- call sites ----------------------------------------------------------------------

    def call_target(self, site: CallSite) -> CallTarget | None:
        value = self.callee_at(site)
        if isinstance(value, Ref):
            if value.spelled and not self.catalogue.knows(value.qualified):
                return None
            return FunctionTarget(value.qualified, value.local, value.spelled)
        if isinstance(value, BoundMethod):
            return MethodTarget(value.instance, value.name)
        return None

    def callee_at(self, site: CallSite) -> Value | None:
        """What a call calls, its names read as they stand where the call is made; a method
        of a receiver that may hold several values is the one of the value it blocks on."""
        func = site.node.func
        with self._reading_at(site.point, site.scope):
            value = self.callee(func, site.scope)
            if value is None and isinstance(func, cst.Attribute):
                blocking = self._blocking_member(func.value, func.attr.value, site.scope)
                if blocking is not None:
                    return BoundMethod(blocking, func.attr.value)
            return value

    def callee(self, func: cst.BaseExpression, scope: Scope) -> Value | None:
        """What a call calls: an attribute of a library object that is called is its method,
        even where reading the attribute would give another object (`client.db` is a
        database, `client.close()` a method)."""
        if isinstance(func, cst.Attribute):
            base = self.value(func.value, scope)
            if isinstance(base, Instance) and not base.local:
                return BoundMethod(base, func.attr.value)
        return self.value(func, scope)

    def _blocking_member(
        self, receiver: cst.BaseExpression, method: str, scope: Scope
    ) -> Instance | None:
        """For a receiver that may hold values of several types (`client or
        boto3.client("ses")`, a file on one branch and a `BytesIO` on the other), the one
        whose `method` blocks: the call blocks on the paths where it holds that value."""
        for member in self._members(receiver, scope, 0):
            if (
                isinstance(member, Instance)
                and not member.local
                and self.catalogue.method_family(member.type, method) is not None
            ):
                return Instance(member.type, TypeOrigin(Evidence.UNION, via=member.origin))
        return None

    def _members(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> list[Value]:
        """The values an expression may have, one per path: the known operands of `a or b`
        and `a if c else b`; a name's assignments on alternative paths (the branches of an
        `if`, different methods), all of them known; otherwise nothing."""
        if depth > 4:
            return []
        if isinstance(expr, cst.BooleanOperation):
            return self._members(expr.left, scope, depth + 1) + self._members(
                expr.right, scope, depth + 1
            )
        if isinstance(expr, cst.IfExp):
            return self._members(expr.body, scope, depth + 1) + self._members(
                expr.orelse, scope, depth + 1
            )
        bindings: list[Binding] | None = None
        if isinstance(expr, cst.Name):
            found = self.lookup(expr.value, scope)
            bindings = self._reaching(found) if found else None
        elif isinstance(expr, cst.Attribute):
            owner = self.value(expr.value, scope)
            if isinstance(owner, Instance) and owner.local and owner.type in self._classes:
                bindings = self._classes[owner.type].attributes.get(expr.attr.value)
        if bindings is None:
            if depth == 0:
                return []  # what plain resolution already found unknown
            value = self.value(expr, scope)
            return [value] if value is not None else []
        if len(bindings) == 1 and not isinstance(bindings[0].value, _ALTERNATIVES):
            return []  # one value, the one plain resolution found unknown
        if len(bindings) > 1 and not _alternatives(bindings):
            return []
        members: list[Value] = []
        for binding in bindings:
            if binding.kind is BindingKind.ASSIGN and binding.value is not None:
                with self._reading_at(binding.point, binding.scope):
                    values = self._members(binding.value, binding.scope, depth + 1)
            else:
                value = self.binding_value(binding)
                values = [value] if value is not None else []
            if not values:
                return []  # a binding of unknown value: nothing is claimed of this name
            members += values
        return members

    @contextmanager
    def _reading_at(self, point: Point | None, scope: Scope) -> Iterator[None]:
        """Names read inside are looked up as they stand at `point` (flow-sensitive in
        the frame that holds the point; other scopes' names keep all their bindings)."""
        outer = self._at
        self._at = (point, scope) if point is not None else None
        try:
            yield
        finally:
            self._at = outer

    # -- expressions ---------------------------------------------------------------------

    def value(self, expr: cst.BaseExpression, scope: Scope) -> Value | None:
        if isinstance(expr, cst.Name):
            if expr.value == "None":
                return _NONE
            return self.name_value(expr.value, scope)
        if isinstance(expr, cst.Attribute):
            return self._attribute(self.value(expr.value, scope), expr.attr.value)
        if isinstance(expr, cst.Call):
            return self._call_result(self.callee(expr.func, scope))
        if isinstance(expr, cst.Subscript):
            base = self.value(expr.value, scope)
            if isinstance(base, Instance) and not base.local:
                item = self.catalogue.item_type(base.type)
                if item is not None:
                    return Instance(item, TypeOrigin(Evidence.ITEM, via=base.origin))
            return None
        if isinstance(expr, cst.Await):
            inner = expr.expression
            if isinstance(inner, cst.Call):
                offloaded = self._offloaded(inner, scope)
                if offloaded is not None:
                    return self._call_result(self.callee(offloaded, scope))
            return self.value(inner, scope)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
            left = self.value(expr.left, scope)
            if isinstance(left, Instance) and not left.local:
                return self._typed(
                    self.catalogue.method_returns(left.type, "__truediv__"), left.origin
                )
        return None

    def _offloaded(self, call: cst.Call, scope: Scope) -> cst.BaseExpression | None:
        """`f` in `asyncio.to_thread(f, ...)` (or in `functools.partial(f, ...)` handed to
        a thread bridge): awaiting the bridge gives what calling `f` gives."""
        bridge = self.value(call.func, scope)
        if not isinstance(bridge, Ref) or bridge.qualified not in self.catalogue.bridges:
            return None
        position = self.catalogue.bridges[bridge.qualified]
        positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        if len(positional) <= position:
            return None
        offloaded = positional[position]
        if isinstance(offloaded, cst.Call) and offloaded.args:
            partial = self.value(offloaded.func, scope)
            if isinstance(partial, Ref) and partial.qualified == "functools.partial":
                return offloaded.args[0].value
        return offloaded

    def name_value(self, name: str, scope: Scope) -> Value | None:
        bindings = self.lookup(name, scope)
        if bindings is None:
            for module in self.model.star_imports:
                if self.catalogue.knows(f"{module}.{name}"):
                    return Ref(f"{module}.{name}")
            if name in _BUILTIN_NAMES:
                return Ref(f"builtins.{name}")
            # Bound nowhere (a snippet without its imports): matched by its spelling, unless
            # a star import may be what binds it.
            return None if self.model.star_imports else Ref(name, spelled=True)
        return self._merge(self.binding_value(binding) for binding in self._reaching(bindings))

    def _reaching(self, bindings: list[Binding]) -> list[Binding]:
        """The bindings of one name that may hold when it is read at the current point: the
        last one that surely ran before it (same or enclosing region), those after it in
        branches, and, inside a loop, those later in the loop. Reads in another frame, or
        before any binding in source order, see every binding."""
        if self._at is None:
            return bindings
        point, scope = self._at
        if bindings[0].scope not in _frames(scope):
            return bindings
        before = [b for b in bindings if b.point is not None and b.point.order < point.order]
        if not before:
            return bindings
        start = 0
        for index, binding in enumerate(before):
            assert binding.point is not None
            if binding.point.encloses(point):
                start = index
        later = [
            b
            for b in bindings
            if b.point is not None and b.point.order > point.order and b.point.shares_loop(point)
        ]
        return before[start:] + later

    def lookup(self, name: str, scope: Scope) -> list[Binding] | None:
        """The bindings `name` refers to from `scope`, by Python's scoping rules."""
        start = self.model.module_scope if name in scope.declared_global else scope
        current: Scope | None = start
        while current is not None:
            if current is start or current.kind is not ScopeKind.CLASS:
                found = current.bindings.get(name)
                if found:
                    return found
            current = current.parent
        return None

    # -- bindings ------------------------------------------------------------------------

    def binding_value(self, binding: Binding) -> Value | None:
        key = id(binding)
        if key in self._binding_values:
            return self._binding_values[key]
        if key in self._in_progress:
            return None
        self._in_progress.add(key)
        try:
            with self._reading_at(binding.point, binding.scope):
                value = self._compute_binding_value(binding)
        finally:
            self._in_progress.discard(key)
        self._binding_values[key] = value
        return value

    def _compute_binding_value(self, binding: Binding) -> Value | None:
        kind = binding.kind
        if kind is BindingKind.IMPORT:
            return Ref(binding.target) if binding.target else None
        if kind in (BindingKind.DEF, BindingKind.CLASS):
            return Ref(self.local_name(binding.scope.child_qualname(binding.name)), local=True)
        if kind is BindingKind.PARAM:
            return self._parameter_value(binding)
        if kind is BindingKind.ANNOTATED and binding.annotation is not None:
            if self._says_nothing(binding.annotation, binding.scope):
                # `client: Any`: the assignments say what it holds, if anything.
                if binding.value is None:
                    return _NONE
            else:
                typed = self.annotation_type(binding.annotation, binding.scope)
                if typed is not None:
                    return typed
        if kind in (BindingKind.ASSIGN, BindingKind.ANNOTATED) and binding.value is not None:
            value = self.value(binding.value, binding.scope)
            return value if value is not None else self._declared(binding)
        if kind is BindingKind.WITH and binding.value is not None:
            return self._entered(self.value(binding.value, binding.scope))
        if kind is BindingKind.ASYNC_WITH and binding.value is not None:
            manager = self.value(binding.value, binding.scope)
            # Only async objects enter with `async with`; they return themselves.
            if isinstance(manager, Instance) and self.catalogue.is_async_type(manager.type):
                return manager
        return None

    def _says_nothing(self, annotation: cst.BaseExpression, scope: Scope) -> bool:
        named = self._named(annotation, scope)
        return named is not None and named[0] in _SILENT_ANNOTATIONS

    def _declared(self, binding: Binding) -> Value | None:
        """A name annotated earlier in its function keeps the declared type when it is
        assigned a value of unknown type (`f: TextIOWrapper = ...; f = make()`)."""
        if binding.kind is not BindingKind.ASSIGN or binding.point is None:
            return None
        if not isinstance(binding.value, _OPAQUE):
            return None  # a literal has its own type (`f = 7`)
        if binding.scope.kind is not ScopeKind.FUNCTION:
            return None
        order = binding.point.order
        declared = [
            b.annotation
            for b in binding.scope.bindings.get(binding.name, [])
            if b.kind in (BindingKind.ANNOTATED, BindingKind.PARAM)
            and b.annotation is not None
            and b.point is not None
            and b.point.order < order
        ]
        return self.annotation_type(declared[-1], binding.scope) if declared else None

    def _parameter_value(self, binding: Binding) -> Value | None:
        info = binding.scope.class_info
        if info is not None and (binding.is_self or binding.is_cls):
            qualified = self.local_name(info.qualname)
            if binding.is_cls:
                return Ref(qualified, local=True)
            return Instance(qualified, TypeOrigin(Evidence.RECEIVER, binding.name), local=True)
        if binding.annotation is None:
            return None
        return self.annotation_type(binding.annotation, binding.scope)

    def annotation_type(self, expr: cst.BaseExpression, scope: Scope) -> Instance | None:
        """The one type an annotation declares, seeing through Optional/Annotated/`X | None`
        (see `annotations`); None for a union of several types or an unknown one."""
        members = [m for m in self.annotations.members(expr, scope) if not m.none]
        if len(members) != 1 or members[0].qualified is None:
            return None
        member = members[0]
        qualified = member.qualified
        assert qualified is not None
        if member.local:
            if qualified not in self._classes:
                return None
            return Instance(qualified, TypeOrigin(Evidence.ANNOTATION), local=True)
        origin = TypeOrigin(Evidence.ANNOTATION, member.written)
        return Instance(self.catalogue.canonical_type(qualified), origin)

    def member(self, class_name: str, name: str) -> Value | None:
        """What `obj.<name>` holds for an instance of a class of this module (an attribute's
        value, a property's return annotation, else the bound method)."""
        return self._attribute(Instance(class_name, local=True), name)

    # -- values of compound expressions ---------------------------------------------------

    def _attribute(self, base: Value | None, attribute: str) -> Value | None:
        if isinstance(base, BoundMethod) and self._defers(base.instance):
            # `FS().cache.scan`: an attribute of an object the project pass resolves.
            instance = base.instance
            base = Instance(f"{instance.type}.{base.name}", instance.origin)
        if isinstance(base, Ref):
            if base == _NONE:
                return None
            return Ref(f"{base.qualified}.{attribute}", base.local, base.spelled)
        if isinstance(base, Instance):
            if base.local:
                found = self._class_attribute(base.type, attribute, set())
                if found is _MISSING:
                    prop = self._property_type(base.type, attribute)
                    return prop if prop is not None else BoundMethod(base, attribute)
                return found
            typed = self.catalogue.attribute_type(base.type, attribute)
            if typed is not None:
                return Instance(typed, TypeOrigin(Evidence.ATTRIBUTE, attribute, base.origin))
            return BoundMethod(base, attribute)
        return None

    def _class_attribute(self, class_name: str, attribute: str, seen: set[str]) -> Value | None:
        info = self._classes.get(class_name)
        if info is None or class_name in seen:
            return None
        seen.add(class_name)
        bindings = info.attributes.get(attribute)
        if bindings:
            value = self._merge(self.binding_value(b) for b in bindings)
            if isinstance(value, Instance):
                origin = TypeOrigin(Evidence.ATTRIBUTE, attribute, value.origin)
                return Instance(value.type, origin, value.local)
            return value
        for base in self._local_bases(info):
            found = self._class_attribute(base, attribute, seen)
            if found is not _MISSING:
                return found
        return _MISSING

    def _local_bases(self, info: ClassInfo) -> list[str]:
        scope = info.scope.parent
        if scope is None:
            return []
        bases = []
        for arg in info.node.bases:
            value = self.value(arg.value, scope)
            if isinstance(value, Ref) and value.local:
                bases.append(value.qualified)
        return bases

    def _call_result(self, callee: Value | None) -> Value | None:
        if isinstance(callee, Ref):
            if callee.local:
                if callee.qualified in self._classes:
                    short = callee.qualified.rpartition(".")[2]
                    origin = TypeOrigin(Evidence.CALL, short)
                    return Instance(callee.qualified, origin, local=True)
                return self._returns(callee.qualified)
            origin = TypeOrigin(Evidence.CALL, callee.qualified)
            if callee.qualified in self.extra_types:
                return Instance(callee.qualified, origin)
            made = self.catalogue.call_returns(callee.qualified)
            if made is None and self.deferred and self._project_name(callee):
                return Instance(f"{callee.qualified}()", origin)
            return self._typed(made, origin)
        if isinstance(callee, Instance) and not callee.local:
            # Calling a factory object (`Session = sessionmaker(engine)`, then `Session()`).
            made = self.catalogue.method_returns(callee.type, "__call__")
            return self._typed(made, TypeOrigin(Evidence.CALL, f"{callee.type}.__call__"))
        if isinstance(callee, BoundMethod):
            if callee.instance.local:
                return self._returns(f"{callee.instance.type}.{callee.name}")
            returned = self.catalogue.method_returns(callee.instance.type, callee.name)
            method = f"{callee.instance.type}.{callee.name}"
            if returned is None and self._defers(callee.instance):
                return Instance(f"{method}()", TypeOrigin(Evidence.CALL, method))
            return self._typed(returned, TypeOrigin(Evidence.CALL, method))
        return None

    def _returns(self, function: str) -> Instance | None:
        """The type a project function's return annotation declares."""
        info = self._functions.get(function)
        node = info.node if info is not None else None
        if info is None or not isinstance(node, cst.FunctionDef) or node.returns is None:
            return None
        scope = info.scope.parent or info.scope
        typed = self.annotation_type(node.returns.annotation, scope)
        if typed is None:
            return None
        short = function.rpartition(".")[2]
        origin = TypeOrigin(Evidence.RETURN_ANNOTATION, short)
        return Instance(typed.type, origin, typed.local)

    def _property_type(self, class_name: str, attribute: str) -> Instance | None:
        """`obj.prop` where the class defines `prop` as a (cached) property."""
        for owner in (class_name, *self._local_bases_of(class_name)):
            info = self._functions.get(f"{owner}.{attribute}")
            if info is not None and is_property(info.node):
                return self._returns(f"{owner}.{attribute}")
        return None

    def _local_bases_of(self, class_name: str) -> list[str]:
        info = self._classes.get(class_name)
        return self._local_bases(info) if info is not None else []

    def _entered(self, manager: Value | None) -> Value | None:
        if isinstance(manager, Instance) and not manager.local:
            entered = self.catalogue.entered_type(manager.type)
            return self._typed(entered, TypeOrigin(Evidence.WITH, via=manager.origin))
        return None

    def _project_name(self, ref: Ref) -> bool:
        """A callable that may be the project's own: imported from outside the standard
        library, and not one the catalogue describes."""
        root = ref.qualified.partition(".")[0]
        return (
            not ref.spelled
            and root not in STANDARD_LIBRARY
            and not self.catalogue.knows(ref.qualified)
        )

    def _defers(self, instance: Instance) -> bool:
        """In deferred mode: an instance whose members the project pass may know."""
        if not self.deferred or instance.local:
            return False
        if is_deferred(instance.type):
            return True
        root = instance.type.partition(".")[0]
        return root not in STANDARD_LIBRARY and self.catalogue.type_named(instance.type) is None

    @staticmethod
    def _typed(type_name: str | None, origin: TypeOrigin | None) -> Instance | None:
        return Instance(type_name, origin) if type_name is not None else None

    @staticmethod
    def _merge(values: Iterable[Value | None]) -> Value | None:
        """One value if every binding agrees (ignoring `None` placeholders), else None."""
        result: Value | None = None
        for value in values:
            if value is None:
                return None
            if value == _NONE:
                continue
            if result is None:
                result = value
            elif result != value:
                return None
        return result


def _alternatives(bindings: list[Binding]) -> bool:
    """Assignments of which only one holds on any path: in sibling branches (neither one's
    regions enclose the other's), or in different functions (a class's methods); an
    annotation or a parameter declares a name rather than offering one of its values."""
    points = [(b.scope, b.point) for b in bindings if b.kind is BindingKind.ASSIGN]
    if len(points) < len(bindings):
        return False
    for index, (scope, point) in enumerate(points):
        for other_scope, other in points[index + 1 :]:
            if point is None or other is None:
                return False
            if scope is other_scope and (point.encloses(other) or other.encloses(point)):
                return False
    return True


def _frames(scope: Scope) -> list[Scope]:
    """`scope` and the comprehensions' enclosing scopes up to its function (or module): the
    names read here in the same run of code."""
    found = [scope]
    while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
        scope = scope.parent
        found.append(scope)
    return found
