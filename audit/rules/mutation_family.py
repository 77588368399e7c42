"""What the MUT rules share: their advice, their fix (a copy of the parameter on entry), and
findings placed in the function whose `def` line may carry a `# noqa` for the whole body."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from audit.analysis.writes import Shape
from audit.fixes.plan import NoFix, Planned
from audit.rules.base import RawFinding, fixer

if TYPE_CHECKING:
    from audit.analysis.context import FileContext
    from audit.analysis.mutations import ParameterWrite

ADVICE = "copy it first or return a new value"
COPY_ON_ENTRY = """
Unsafe: where the parameter is annotated as a mutable container and the write changes the
parameter's own object, the function copies it on entry: `p = list(p)` (`dict(p)`,
`set(p)`, `copy.copy(p)` for other containers; `None if p is None else ...` for an optional
one) becomes its first statement after the docstring. A caller that relied on the change
loses it, hence unsafe. Writes into the container's items get no fix: a shallow copy shares
them.
"""


def parameter_finding(
    ctx: FileContext, code: str, write: ParameterWrite, message: str
) -> RawFinding:
    function = write.function
    fix = copy_on_entry(ctx, write)
    return RawFinding(
        code, write.node, message, function.scope.qualname, function.name_node, fix=fix
    )


def copy_on_entry(ctx: FileContext, write: ParameterWrite) -> Planned:
    """The copy that makes this write change the function's own object; None when the
    parameter's type is not known to be a mutable container."""
    shape = write.shape
    if shape.kind is not Shape.MUTABLE or shape.type is None:
        return None
    if write.mutation.origin.inner:
        return NoFix("the write changes an item of the parameter, which a copy would share")
    name = write.parameter.name
    copier = _copiers().get(shape.type, "copy.copy")
    if "." not in copier and not fixer(ctx).builtin(copier, write.function):
        copier = "copy.copy"
    copy = f"{copier}({name})"
    if shape.optional:
        copy = f"None if {name} is None else {copy}"
    return fixer(ctx).copy_on_entry(
        write.function, name, copier, copy, f"copy `{name}` on entry: `{name} = {copy}`"
    )


@cache
def _copiers() -> dict[str, str]:
    from audit.catalogue import load_data_file

    return dict(load_data_file("mutation.toml")["copies"])


def idioms_reference() -> str:
    """The framework idioms the MUT rules leave alone, for the rule pages."""
    from audit.analysis.handed import idioms

    lines = ["## Framework idioms", "", "Writes to what a framework hands a function to fill:"]
    lines += [f"- {idiom.id}: {idiom.why}" for idiom in idioms()]
    return "\n".join(lines)
