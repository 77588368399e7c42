"""The keys an action returns, read from its code where that is certain: a `TypedDict`
return annotation, or `return` statements that all give a dict literal with string keys
(or nothing). Anything else (`return result`, `{**other}`) leaves the keys unknown, and
the `outputs` of a step using it are checked when it runs instead.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import typing
from collections.abc import Callable, Iterator
from typing import Any, is_typeddict


def returned_keys(function: Callable[..., Any]) -> frozenset[str] | None:
    annotated = _typed_dict_keys(function)
    if annotated is not None:
        return annotated
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    definition = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == function.__name__
        ),
        None,
    )
    if definition is None:
        return None
    keys: set[str] = set()
    for value in _returned_values(definition):
        found = _literal_keys(value)
        if found is None:
            return None
        keys |= found
    return frozenset(keys)


def _typed_dict_keys(function: Callable[..., Any]) -> frozenset[str] | None:
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # an annotation that does not resolve says nothing about the keys
        return None
    returned = hints.get("return")
    if returned is not None and is_typeddict(returned):
        return frozenset(typing.get_type_hints(returned))
    return None


def _returned_values(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr]:
    """The values of the function's own `return` statements (not those of nested ones)."""
    pending: list[ast.AST] = list(definition.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        if isinstance(node, ast.Return):
            yield node.value if node.value is not None else ast.Constant(None)
        pending.extend(ast.iter_child_nodes(node))


def _literal_keys(value: ast.expr) -> frozenset[str] | None:
    if isinstance(value, ast.Constant) and value.value is None:
        return frozenset()
    if isinstance(value, ast.Dict):
        keys = [key.value if isinstance(key, ast.Constant) else None for key in value.keys]
        if all(isinstance(key, str) for key in keys):
            return frozenset(str(key) for key in keys)
        return None
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "dict"
        and not value.args
        and all(keyword.arg is not None for keyword in value.keywords)
    ):
        return frozenset(str(keyword.arg) for keyword in value.keywords)
    return None
