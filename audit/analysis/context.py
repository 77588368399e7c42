"""What a rule sees of one file: its text, tree, model and resolved calls, all built lazily."""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import libcst as cst

from audit.analysis.blocking import BlockingMatch, classify
from audit.analysis.ignores import Ignore, IgnoreKind, find_ignores
from audit.analysis.model import CallSite, ModuleModel
from audit.analysis.mutations import MutationChecker, ReportedMutation
from audit.analysis.resolve import CallTarget, FunctionTarget, Ref, Resolver
from audit.analysis.settings import AnalysisSettings
from audit.analysis.walker import ModuleWalker
from audit.catalogue import Catalogue
from audit.findings import Inventory
from audit.span import Span


@dataclass(frozen=True)
class RawFinding:
    """A finding still attached to its node; positions are computed once for all of them.

    Findings in comments carry their `span` instead of a node. `def_node` names the function
    whose `def` line may carry a `# noqa` for the whole body.
    """

    code: str
    node: cst.CSTNode | None
    message: str
    function: str | None = None
    def_node: cst.CSTNode | None = None
    span: Span | None = None


@dataclass(frozen=True)
class LoopCall:
    """A call that runs on the event loop: directly in an `async def` (or a class body or
    comprehension inside one), not in a nested sync `def` or `lambda`."""

    site: CallSite
    target: CallTarget | None
    awaited: bool
    blocking: BlockingMatch | None

    @property
    def node(self) -> cst.Call:
        return self.site.node

    @property
    def function(self) -> str | None:
        return self.site.scope.function_qualname


class FileContext:
    def __init__(
        self,
        *,
        path: str,
        module_name: str,
        is_package: bool,
        text: str,
        tree: cst.Module,
        catalogue: Catalogue,
        settings: AnalysisSettings,
    ) -> None:
        self.path = path
        self.module_name = module_name
        self.is_package = is_package
        self.text = text
        self.tree = tree
        self.catalogue = catalogue
        self.settings = settings
        self._calls: dict[int, LoopCall] = {}

    @cached_property
    def has_async(self) -> bool:
        """Cheap pre-filter: without the word `async` there is no coroutine to check."""
        return "async" in self.text

    @cached_property
    def model(self) -> ModuleModel:
        return ModuleWalker(self.module_name, self.is_package).run(self.tree)

    @cached_property
    def resolver(self) -> Resolver:
        return Resolver(self.model, self.catalogue, self.settings.configured_types)

    @cached_property
    def loop_calls(self) -> list[LoopCall]:
        if not self.has_async:
            return []
        return [self.call(site) for site in self.model.calls if site.scope.runs_on_loop]

    def call(self, site: CallSite) -> LoopCall:
        """A call site with its target resolved and its blocking callable, if any."""
        known = self._calls.get(id(site))
        if known is not None:
            return known
        target = self.resolver.call_target(site)
        awaited = self.model.is_awaited(site.node)
        blocking = classify(
            site.node,
            target,
            awaited,
            catalogue=self.catalogue,
            settings=self.settings,
            imports=self.imported_packages,
        )
        resolved = LoopCall(site, target, awaited, blocking)
        self._calls[id(site)] = resolved
        return resolved

    @cached_property
    def imported_packages(self) -> frozenset[str]:
        return frozenset(name.partition(".")[0] for name in self.model.imported)

    @cached_property
    def mutations(self) -> list[ReportedMutation]:
        """Writes to parameters that the MUT rules report, each with its code."""
        if "def " not in self.text and "lambda" not in self.text:
            return []
        checker = MutationChecker(self.resolver, self.settings.mutation_ignore_names)
        return checker.reported(self.model.functions, self.source)

    @cached_property
    def ignores(self) -> list[Ignore]:
        return find_ignores(self.text)

    @cached_property
    def no_type_check(self) -> list[cst.Decorator]:
        """`@typing.no_type_check` decorators: the function or class is not type checked."""
        if "no_type_check" not in self.text:
            return []
        names = {"typing.no_type_check", "typing_extensions.no_type_check"}
        found = []
        for decorator, scope in self.model.decorators:
            value = self.resolver.value(decorator.decorator, scope)
            if isinstance(value, Ref) and value.qualified in names:
                found.append(decorator)
        return found

    @cached_property
    def inventory(self) -> Inventory:
        codes: Counter[str] = Counter()
        kinds: Counter[IgnoreKind] = Counter()
        for ignore in self.ignores:
            kinds[ignore.kind] += 1
            codes.update(ignore.codes if ignore.tool == "type" else ())
        return Inventory(
            blanket=kinds[IgnoreKind.BLANKET],
            coded=kinds[IgnoreKind.CODED],
            codes=dict(codes),
            other_checkers=kinds[IgnoreKind.OTHER_CHECKER],
            file_level=kinds[IgnoreKind.FILE_LEVEL] + len(self.no_type_check),
            casts=self._count_casts(),
            any=self._count_any(),
        )

    def _count_casts(self) -> int:
        if "cast" not in self.text:
            return 0
        names = {"typing.cast", "typing_extensions.cast"}
        return sum(
            1
            for site in self.model.calls
            if site.node.args
            and isinstance(target := self.resolver.call_target(site), FunctionTarget)
            and target.qualified in names
        )

    def _count_any(self) -> int:
        if "Any" not in self.text:
            return 0
        names = {Ref("typing.Any"), Ref("typing_extensions.Any")}
        count = 0
        for annotation, scope in self.model.annotations:
            pending: list[cst.BaseExpression] = [annotation]
            while pending:
                node = pending.pop()
                if isinstance(node, cst.Name):
                    if node.value == "Any" and self.resolver.value(node, scope) in names:
                        count += 1
                elif isinstance(node, cst.Attribute):
                    if node.attr.value == "Any" and self.resolver.value(node, scope) in names:
                        count += 1
                elif isinstance(node, cst.Subscript):
                    pending.append(node.value)
                    pending.extend(
                        e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)
                    )
                elif isinstance(node, cst.BinaryOperation):
                    pending.extend((node.left, node.right))
                elif isinstance(node, (cst.List, cst.Tuple)):
                    pending.extend(e.value for e in node.elements)
                elif isinstance(node, cst.SimpleString) and isinstance(
                    text := node.evaluated_value, str
                ):
                    with contextlib.suppress(cst.ParserSyntaxError):
                        pending.append(cst.parse_expression(text))
        return count

    def mutation_findings(self, code: str) -> list[RawFinding]:
        return [
            RawFinding(
                code,
                reported.node,
                reported.message,
                reported.function.scope.qualname,
                reported.function.name_node,
            )
            for reported in self.mutations
            if reported.code == code
        ]

    def source(self, node: cst.CSTNode, limit: int = 60) -> str:
        """The code of a node on one line, shortened for messages."""
        text = " ".join(self.tree.code_for_node(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."
