"""Reading annotations, once and the same way for every rule family.

An annotation is split into the types a value of it may have: unions (`X | Y`, `Union[...]`,
`Optional[...]`) are split, wrappers (`Annotated`, `Final`, `ClassVar`, `Required`, ...) are
seen through, string annotations are parsed (once per string), and every name is resolved
through the module's imports and aliases, so `Opt[list]` after `from typing import
Optional as Opt` reads as `list` for the mutation rules just as `Opt[sqlite3.Connection]`
reads as a connection for the blocking rules. A generic (`list[int]`, `queue.Queue[str]`)
is its origin type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from audit.analysis.model import Scope
from audit.analysis.names import dotted_name

_WRAPPED = ("Optional", "Union", "Annotated", "Final", "ClassVar")
_WRAPPED_EXTENSIONS = ("ReadOnly", "Required", "NotRequired")
WRAPPERS = frozenset(
    f"{module}.{name}"
    for module in ("typing", "typing_extensions")
    for name in (*_WRAPPED, *_WRAPPED_EXTENSIONS)
)


@dataclass(frozen=True)
class Member:
    """One type an annotated value may have. `qualified` is the resolved name of the type
    (`builtins.list`, `sqlite3.Connection`; None when it cannot be resolved), `local` when
    the module itself defines it, `none` for `None`; `written` is the member as spelled."""

    qualified: str | None
    written: str
    local: bool = False
    none: bool = False


# What resolving a name gives: (qualified name, defined in this module), or None.
Resolve = Callable[[cst.BaseExpression, Scope], "tuple[str, bool] | None"]


class AnnotationReader:
    def __init__(self, resolve: Resolve) -> None:
        self._resolve = resolve
        self._parsed: dict[int, cst.BaseExpression | None] = {}

    def expression(self, annotation: cst.BaseExpression) -> cst.BaseExpression | None:
        """The annotation as an expression: a string annotation is parsed, once."""
        if not isinstance(annotation, cst.SimpleString):
            return annotation
        key = id(annotation)
        if key not in self._parsed:
            text = annotation.evaluated_value
            parsed: cst.BaseExpression | None = None
            if isinstance(text, str):
                try:
                    parsed = cst.parse_expression(text)
                except cst.ParserSyntaxError:
                    parsed = None
            self._parsed[key] = parsed
        return self._parsed[key]

    def members(self, annotation: cst.BaseExpression, scope: Scope) -> list[Member]:
        """The types a value annotated so may have (empty when nothing can be said)."""
        expr = self.expression(annotation)
        if expr is None:
            return []
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            return [*self.members(expr.left, scope), *self.members(expr.right, scope)]
        if isinstance(expr, cst.Name) and expr.value == "None":
            return [Member("builtins.None", "None", none=True)]
        if isinstance(expr, cst.Subscript):
            wrapper = self._resolve(expr.value, scope)
            if wrapper is not None and wrapper[0] in WRAPPERS:
                elements = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
                if wrapper[0].endswith("Annotated"):
                    elements = elements[:1]
                return [member for element in elements for member in self.members(element, scope)]
            expr = expr.value
        resolved = self._resolve(expr, scope)
        written = dotted_name(expr) or ""
        if resolved is None:
            return [Member(None, written)]
        qualified, local = resolved
        if qualified in WRAPPERS:
            return []  # a bare `Final` or `ClassVar`: the value says what the type is
        return [Member(qualified, written or qualified, local)]

    def names(self, annotation: cst.BaseExpression, name: str, scope: Scope) -> Iterator[str]:
        """The resolved qualified names of every reference spelled `name` (or `x.name`)
        anywhere in the annotation, string annotations included."""
        pending: list[cst.BaseExpression] = [annotation]
        while pending:
            node = pending.pop()
            if isinstance(node, (cst.Name, cst.Attribute)):
                spelled = node.value if isinstance(node, cst.Name) else node.attr.value
                if spelled == name:
                    resolved = self._resolve(node, scope)
                    if resolved is not None:
                        yield resolved[0]
            elif isinstance(node, cst.Subscript):
                pending.append(node.value)
                pending.extend(e.slice.value for e in node.slice if isinstance(e.slice, cst.Index))
            elif isinstance(node, cst.BinaryOperation):
                pending.extend((node.left, node.right))
            elif isinstance(node, (cst.List, cst.Tuple)):
                pending.extend(e.value for e in node.elements)
            elif isinstance(node, cst.SimpleString):
                parsed = self.expression(node)
                if parsed is not None:
                    pending.append(parsed)
