"""One annotation reader for every rule family: a table of annotations and what they read as."""

from __future__ import annotations

import textwrap

import pytest

from audit.analysis.annotations import Member
from audit.analysis.loader import Unloadable, load
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile

HEADER = """\
import queue, sqlite3, typing
from typing import Annotated, ClassVar, Final, Optional, Union
from typing import Optional as Opt
import typing_extensions as te

class Local: ...

"""


def _read(annotation: str) -> tuple[list[Member], object]:
    code = HEADER + f"def f(p: {annotation}): ...\n"
    ctx = load(SourceFile("m.py", "m", False, code.encode()), AnalysisSettings())
    assert not isinstance(ctx, Unloadable)
    (function,) = [f for f in ctx.model.functions if f.scope.name == "f"]
    expr = function.parameters["p"].annotation
    assert expr is not None
    scope = function.scope.parent
    assert scope is not None
    reader = ctx.resolver.annotations
    return reader.members(expr, scope), ctx.resolver.annotation_type(expr, scope)


@pytest.mark.parametrize(
    ("annotation", "members", "one_type"),
    [
        ("list", ["builtins.list"], "builtins.list"),
        ("Optional[list]", ["builtins.list"], "builtins.list"),
        ("Opt[list]", ["builtins.list"], "builtins.list"),  # an alias of Optional
        ("Opt[sqlite3.Connection]", ["sqlite3.Connection"], "sqlite3.Connection"),
        ("typing.Optional[dict]", ["builtins.dict"], "builtins.dict"),
        ("te.Optional[set]", ["builtins.set"], "builtins.set"),
        ("list | None", ["builtins.list", "builtins.None"], "builtins.list"),
        ("None | list | dict", ["builtins.None", "builtins.list", "builtins.dict"], None),
        ("Union[list, None]", ["builtins.list", "builtins.None"], "builtins.list"),
        ("Union[list, dict]", ["builtins.list", "builtins.dict"], None),
        ("Annotated[list, 'meta']", ["builtins.list"], "builtins.list"),
        ("Final[list]", ["builtins.list"], "builtins.list"),
        ("ClassVar[Optional[list]]", ["builtins.list"], "builtins.list"),
        ("'Optional[sqlite3.Connection]'", ["sqlite3.Connection"], "sqlite3.Connection"),
        ("list[int]", ["builtins.list"], "builtins.list"),  # a generic is its origin
        ("'queue.Queue[str]'", ["queue.Queue"], "queue.Queue"),
        ("Local", ["m.Local"], "m.Local"),
        ("Optional[Local]", ["m.Local"], "m.Local"),
        ("Final", [], None),  # bare: the assigned value says what the type is
        ("undefined_name", [None], None),
        ("'not valid ('", [], None),
    ],
)
def test_annotations_read_the_same_for_every_family(
    annotation: str, members: list[str | None], one_type: str | None
) -> None:
    found, typed = _read(annotation)
    assert [member.qualified for member in found] == members
    assert getattr(typed, "type", None) == one_type


def test_a_string_annotation_is_parsed_once() -> None:
    code = HEADER + "def f(p: 'Opt[list]'): ...\n"
    ctx = load(SourceFile("m.py", "m", False, code.encode()), AnalysisSettings())
    assert not isinstance(ctx, Unloadable)
    (function,) = [f for f in ctx.model.functions if f.scope.name == "f"]
    expr = function.parameters["p"].annotation
    reader = ctx.resolver.annotations
    assert expr is not None
    assert reader.expression(expr) is reader.expression(expr)


def test_explicit_any_is_counted_through_aliases_and_strings() -> None:
    code = textwrap.dedent(
        """\
        import typing
        from typing import Any as Anything, Any

        def f(a: Any, b: typing.Any, c: "dict[str, Any]", d: list[Anything]) -> Any: ...
        """
    )
    ctx = load(SourceFile("m.py", "m", False, code.encode()), AnalysisSettings())
    assert not isinstance(ctx, Unloadable)
    # `Anything` is spelled differently: only names spelled `Any` are looked at
    assert ctx.inventory.any == 4
