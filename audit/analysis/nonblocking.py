"""Calls that reach a blocking callable but do not block where they are made.

- A lazy callable (`os.walk(d)`, `path.iterdir()` before 3.13) only makes an iterator; it
  blocks where the iterator is iterated, so only a call iterated in place counts.
- Some arguments make a blocking function return at once (`getaddrinfo(ip, 0,
  flags=AI_NUMERICHOST)` parses a numeric address and looks nothing up).
- `fut.result()` on a future already known to be done returns at once.
- A socket the code put in non-blocking mode (`sock.setblocking(False)`, `settimeout(0)`,
  created with `SOCK_NONBLOCK`), handed to an event-loop method that requires that mode
  (`loop.sock_recv(sock, n)`, `loop.create_connection(factory, sock=sock)`), or
  called inside a `try` that handles `BlockingIOError`, raises instead of waiting: the code
  waits for readiness with the loop. The mode is looked for in the same function, and for
  `self.x` in every method of the class.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import libcst as cst

from audit.analysis.model import CallSite, ModuleModel, Scope, ScopeKind
from audit.analysis.names import dotted_name
from audit.analysis.values import CallTarget, MethodTarget
from audit.catalogue import Catalogue

# (function or class `__qualname__`, the receiver as written)
_Key = tuple[str, str]


class Exemptions:
    """`iterated`, `settled` and `handled` are what the walk recorded of a call: whether its
    result is iterated where it is made, whether it reads a future known to be done, and
    the exceptions handled around it."""

    def __init__(
        self,
        model: ModuleModel,
        catalogue: Catalogue,
        version: tuple[int, int],
        *,
        iterated: Callable[[CallSite], bool],
        settled: Callable[[CallSite], bool],
        handled: Callable[[CallSite], frozenset[str]],
    ):
        self.model = model
        self.catalogue = catalogue
        self.version = version
        self.iterated = iterated
        self.settled = settled
        self.handled = handled

    def applies(self, site: CallSite, target: CallTarget, callee: str) -> bool:
        """True when the blocking `callee` reached by this call does not block here."""
        if self.catalogue.is_lazy(callee, self.version) and not self.iterated(site):
            return True
        flag = self.catalogue.unless_argument.get(callee)
        if flag is not None and any(_mentions(arg.value, flag) for arg in site.node.args):
            return True
        if not isinstance(target, MethodTarget):
            return False
        blocking_type = self.catalogue.type_named(target.instance.type)
        if blocking_type is None:
            return False
        if target.method in blocking_type.when_done and self.settled(site):
            return True
        if self.handled(site) & blocking_type.would_block:
            return True
        if not (blocking_type.modes or blocking_type.handed_to):
            return False
        func = site.node.func
        receiver = dotted_name(func.value) if isinstance(func, cst.Attribute) else None
        return receiver is not None and any(
            key in self._nonblocking for key in _keys(site.scope, receiver)
        )

    @cached_property
    def _nonblocking(self) -> frozenset[_Key]:
        """Every receiver the module puts in non-blocking mode, or hands to a loop method
        that requires it."""
        modes: dict[str, frozenset[str]] = {}
        handed_to: set[str] = set()
        handed_as: dict[str, str] = {}
        flags: set[str] = set()
        for blocking_type in self.catalogue.types.values():
            modes.update(blocking_type.modes)
            handed_to |= blocking_type.handed_to
            handed_as.update(blocking_type.handed_as)
            flags |= blocking_type.nonblocking_flags
        found: set[_Key] = set()
        for site in self.model.calls:
            subject = _subject(site.node, modes, handed_to, handed_as)
            name = dotted_name(subject) if subject is not None else None
            if name is not None:
                found.update(_keys(site.scope, name))
        for scope, name, value in self._assignments():
            if isinstance(value, cst.Call) and any(
                _mentions(arg.value, flag) for arg in value.args for flag in flags
            ):
                found.update(_keys(scope, name))
        return frozenset(found)

    def _assignments(self) -> list[tuple[Scope, str, cst.BaseExpression]]:
        """`(scope, receiver as written, value)` for names and `self.x` assigned a value."""
        found = [
            (info.scope, name, binding.value)
            for info in self.model.functions
            for name, bindings in info.scope.bindings.items()
            for binding in bindings
            if binding.value is not None
        ]
        found += [
            (binding.scope, f"self.{name}", binding.value)
            for info in self.model.classes.values()
            for name, bindings in info.attributes.items()
            for binding in bindings
            if binding.value is not None and binding.scope.kind is ScopeKind.FUNCTION
        ]
        return found


def _subject(
    call: cst.Call,
    modes: dict[str, frozenset[str]],
    handed_to: set[str],
    handed_as: dict[str, str],
) -> cst.BaseExpression | None:
    """The object a call puts in non-blocking mode (`sock.setblocking(False)`) or hands to
    code that requires that mode (`loop.sock_recv(sock, n)`, `create_connection(sock=s)`)."""
    func, args = call.func, call.args
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    keyword = handed_as.get(method)
    if keyword is not None:
        return next((a.value for a in args if a.keyword and a.keyword.value == keyword), None)
    if not args or args[0].keyword is not None:
        return None
    if method in modes and _literal(args[0].value) in modes[method]:
        return func.value
    if method in handed_to:
        return args[0].value
    return None


def _keys(scope: Scope, receiver: str) -> list[_Key]:
    """Where a receiver's mode is looked for: its function, and its class for `self.x`."""
    function: Scope | None = scope
    while function is not None and function.kind is not ScopeKind.FUNCTION:
        function = function.parent
    if function is None:
        return []
    keys = [(function.qualname, receiver)]
    owner = function.parent
    if receiver.startswith("self.") and owner is not None and owner.class_info is not None:
        keys.append((owner.qualname, receiver))
    return keys


def _mentions(expr: cst.BaseExpression, name: str) -> bool:
    """`name` (or `module.name`) appears in the expression, alone or in `A | B`."""
    if isinstance(expr, cst.BinaryOperation):
        return _mentions(expr.left, name) or _mentions(expr.right, name)
    written = dotted_name(expr)
    return written is not None and written.rpartition(".")[2] == name


def _literal(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, (cst.Integer, cst.Float)):
        return expr.value
    return None
