"""The rewrites the rules' fixes are made of, planned on one file's tree: await a call
(`time.sleep(x)` -> `await asyncio.sleep(x)`), run it in a worker thread (`f(a, k=v)` ->
`await asyncio.to_thread(f, a, k=v)`), copy a parameter on entry, and make a module
available by an import.

Each returns a `FixPlan` (or a `NoFix` saying why not): libcst builds the new code from the
original nodes, so their formatting and comments come along unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from audit.analysis.facts import FIXES, Facts
from audit.analysis.model import CallPlace, CallSite, FunctionInfo, Scope, ScopeKind
from audit.analysis.recorders.anchors import FixAnchors
from audit.analysis.recorders.calls import Calls
from audit.analysis.resolve import Resolver
from audit.analysis.values import Ref
from audit.catalogue import Call, Catalogue, Replacement
from audit.core.findings import Applicability
from audit.fixes.plan import FixPlan, NoFix, PlannedEdit, Where

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


class Fixer:
    """Plans rewrites on one file from the parts they read: its tree (code and newline
    style), its imports and the calls a rewrite must write around (`anchors`), which calls
    are awaited already (`calls`), what a name means where the fix goes (`resolver`), and
    the catalogue (replacements, thread bridges) with the packages the module imports."""

    NEEDS: ClassVar[Facts] = FIXES

    def __init__(
        self,
        tree: cst.Module,
        anchors: FixAnchors,
        calls: Calls,
        resolver: Resolver,
        catalogue: Catalogue,
        imported_packages: frozenset[str],
    ) -> None:
        self.tree = tree
        self.anchors = anchors
        self.calls = calls
        self.resolver = resolver
        self.catalogue = catalogue
        self.imported_packages = imported_packages

    @staticmethod
    def of(ctx: FileContext) -> Fixer:
        """The fixer of a file, built once."""
        return ctx.derived(_fixer)

    # -- calls ---------------------------------------------------------------------------

    def unrewritable(self, site: CallSite) -> str | None:
        """Why `await` cannot be put at this call, if it cannot."""
        kind = site.scope.kind
        if kind is ScopeKind.COMPREHENSION:
            return "the call is in a comprehension, which `await` would make asynchronous"
        if kind is ScopeKind.CLASS:
            return "the call is in a class body, where `await` is not allowed"
        if kind is not ScopeKind.FUNCTION or not site.scope.is_async:
            return "the call is not in the coroutine's own body"
        if site.place is CallPlace.WITH_ITEM:
            return "the call is in a `with` header: the context manager would still run on the loop"
        if site.place is CallPlace.DEFINITION:
            return f"the call is in {site.place.value}, evaluated where it is defined"
        return None

    def await_instead(
        self, site: CallSite, replacement: Replacement, message: str
    ) -> FixPlan | NoFix:
        """`f(args)` -> `await <replacement>(args)`: a drop-in async callable."""
        reference = self.module_reference(site, replacement.library)
        if isinstance(reference, NoFix):
            return reference
        name, imports = reference
        func = cst.parse_expression(_rebased(replacement.callable, replacement.library, name))
        return self._awaited(
            site, site.node.with_changes(func=func), Applicability.SAFE, message, imports
        )

    def await_twin(self, site: CallSite, twin: str, message: str) -> FixPlan | NoFix:
        """`x.m(args)` -> `await x.am(args)`: the async twin of a method."""
        func = site.node.func
        if not isinstance(func, cst.Attribute):
            return NoFix("the call is not a method call")
        call = site.node.with_changes(func=func.with_changes(attr=cst.Name(twin)))
        return self._awaited(site, call, Applicability.SAFE, message, ())

    def offload(self, site: CallSite, message: str) -> FixPlan | NoFix:
        """`f(a, k=v)` -> `await asyncio.to_thread(f, a, k=v)`, or the bridge of the async
        library the module uses (with `functools.partial` when it passes no keywords)."""
        bridge = self.catalogue.offload(self.imported_packages)
        if bridge is None or bridge.call is not Call.OFFLOAD:
            return NoFix("the catalogue names no thread bridge")
        reference = self.module_reference(site, bridge.library)
        if isinstance(reference, NoFix):
            return reference
        name, imports = reference
        call = site.node
        function: cst.BaseExpression = call.func
        arguments: list[cst.Arg] = list(call.args)
        if not bridge.keywords and any(a.keyword is not None or a.star == "**" for a in arguments):
            partial = self.module_reference(site, "functools")
            if isinstance(partial, NoFix):
                return partial
            functools_name, more = partial
            imports = (*imports, *more)
            partial_func = cst.parse_expression(f"{functools_name}.partial")
            function = cst.Call(partial_func, _prepended(function, arguments))
            arguments = []
        bridged = call.with_changes(
            func=cst.parse_expression(_rebased(bridge.callable, bridge.library, name)),
            args=_prepended(function, arguments),
        )
        return self._awaited(site, bridged, Applicability.UNSAFE, message, imports)

    def _awaited(
        self,
        site: CallSite,
        call: cst.Call,
        applicability: Applicability,
        message: str,
        imports: tuple[PlannedEdit, ...],
    ) -> FixPlan | NoFix:
        reason = self.unrewritable(site)
        if reason is not None:
            return NoFix(reason)
        code = self.tree.code_for_node(call)
        if not self.calls.is_awaited(site.node):
            code = f"await {code}"
            if self.anchors.is_looked_into(site.node):
                code = f"({code})"
        edit = PlannedEdit(site.node, Where.REPLACE, code)
        return FixPlan(applicability, message, (edit, *imports))

    # -- parameters ----------------------------------------------------------------------

    def copy_on_entry(
        self, function: FunctionInfo, parameter: str, copier: str, copy: str, message: str
    ) -> FixPlan | NoFix:
        """`p = <copy>` (`list(p)`, made with `copier`) as the function's first statement
        after its docstring."""
        node = function.node
        if not isinstance(node, cst.FunctionDef):
            return NoFix("a lambda has no statement to copy its parameter in")
        imports: tuple[PlannedEdit, ...] = ()
        if "." in copier:
            module = copier.partition(".")[0]
            reference = self.module_reference_in(function.scope, module)
            if isinstance(reference, NoFix):
                return reference
            name, imports = reference
            copy = copy.replace(copier, f"{name}.{copier.partition('.')[2]}", 1)
        statement = f"{parameter} = {copy}"
        body = node.body
        if isinstance(body, cst.SimpleStatementSuite):  # `def f(p): p.append(1)`
            small = list(body.body)
            if not _is_docstring_expression(small[0]):
                edit = PlannedEdit(small[0], Where.BEFORE, f"{statement}; ")
            elif len(small) > 1:
                edit = PlannedEdit(small[1], Where.BEFORE, f"{statement}; ")
            else:
                edit = PlannedEdit(small[0], Where.AFTER, f"; {statement}")
        elif isinstance(body, cst.IndentedBlock):
            statements = list(body.body)
            line = statement + self.tree.default_newline
            if not _is_docstring(statements[0]):
                edit = PlannedEdit(statements[0], Where.LINE_BEFORE, line, indent=True)
            elif len(statements) > 1:
                edit = PlannedEdit(statements[1], Where.LINE_BEFORE, line, indent=True)
            else:
                edit = PlannedEdit(statements[0], Where.LINE_AFTER, line, indent=True)
        else:
            return NoFix("the function's body has no statement to copy before")
        return FixPlan(Applicability.UNSAFE, message, (edit, *imports))

    def builtin(self, name: str, function: FunctionInfo) -> bool:
        """Whether `name` means the builtin of that name inside the function."""
        value = self.resolver.name_value(name, function.scope)
        return value == Ref(f"builtins.{name}")

    # -- imports -------------------------------------------------------------------------

    def module_reference(
        self, site: CallSite, module: str
    ) -> tuple[str, tuple[PlannedEdit, ...]] | NoFix:
        return self.module_reference_in(site.scope, module)

    def module_reference_in(
        self, scope: Scope, module: str
    ) -> tuple[str, tuple[PlannedEdit, ...]] | NoFix:
        """The name `module` goes by where the fix is, and the import to add when the module
        does not import it yet. No fix when the name means something else there."""
        resolver = self.resolver
        alias = self.anchors.module_binding(module)
        if alias is not None and resolver.name_value(alias, scope) == Ref(module):
            return alias, ()
        value = resolver.name_value(module, scope)
        if value == Ref(module):
            return module, ()
        if value is not None and not (isinstance(value, Ref) and value.spelled):
            return NoFix(f"`{module}` names something else here")
        return module, (self._import_edit(module),)

    def _import_edit(self, module: str) -> PlannedEdit:
        """`import module` in the module's leading block of imports, where isort would put
        it: before the first plain import that sorts after it, else after the last plain
        import, else before the first `from` import (not `__future__`), else after the
        docstring and `__future__` imports."""
        tree, anchors = self.tree, self.anchors
        content = f"import {module}{tree.default_newline}"
        body = tree.body
        index = anchors.import_insertion(tree)
        leading = [
            record
            for record in anchors.records
            if record.statement is not None and record.statement < index and record.bound
        ]
        plain = [record for record in leading if isinstance(record.node, cst.Import)]
        later = [record for record in plain if record.bound[0][1] > module]
        froms = [
            record
            for record in leading
            if isinstance(record.node, cst.ImportFrom)
            and not record.bound[0][1].startswith("__future__.")
        ]
        if later:
            return self._line(body, later[0].statement, Where.LINE_BEFORE, content)
        if plain:
            return self._line(body, plain[-1].statement, Where.LINE_AFTER, content)
        if froms:
            return self._line(body, froms[0].statement, Where.LINE_BEFORE, content)
        if index > 0:
            return PlannedEdit(body[index - 1], Where.LINE_AFTER, content)
        return PlannedEdit(body[0], Where.LINE_BEFORE, content)

    @staticmethod
    def _line(
        body: Sequence[cst.BaseStatement], statement: int | None, where: Where, content: str
    ) -> PlannedEdit:
        assert statement is not None
        return PlannedEdit(body[statement], where, content)


def _fixer(ctx: FileContext) -> Fixer:
    return Fixer(
        ctx.tree,
        ctx.recorded(FixAnchors),
        ctx.recorded(Calls),
        ctx.resolver,
        ctx.catalogue,
        ctx.imported_packages,
    )


def _rebased(callable_name: str, library: str, name: str) -> str:
    """`asyncio.to_thread` as reached through the module's name for `asyncio`."""
    return name + callable_name[len(library) :]


def _prepended(value: cst.BaseExpression, arguments: list[cst.Arg]) -> list[cst.Arg]:
    """`value` as a first argument before `arguments` (kept as written)."""
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    first = cst.Arg(value, comma=comma if arguments else cst.MaybeSentinel.DEFAULT)
    return [first, *arguments]


def _is_docstring_expression(statement: cst.BaseSmallStatement) -> bool:
    return isinstance(statement, cst.Expr) and isinstance(
        statement.value, (cst.SimpleString, cst.ConcatenatedString)
    )


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and _is_docstring_expression(statement.body[0])
    )
