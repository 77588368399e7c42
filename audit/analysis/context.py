"""What a rule sees of one file: its text, tree, model and the facts the shared analyses
derive from them (resolved calls with their blocking callables, writes to parameters,
ignore comments), all built lazily and at most once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar, cast

import libcst as cst

from audit.analysis import prefilter
from audit.analysis.assumptions import Assumptions
from audit.analysis.blocking import BlockingCall, classify
from audit.analysis.constants import ConditionReader
from audit.analysis.facts import Fact, Facts
from audit.analysis.ignores import Ignore, IgnoreKind, find_ignores
from audit.analysis.model import CallSite, ModuleModel
from audit.analysis.mutations import ParameterWrite, parameter_writes
from audit.analysis.names import string_value
from audit.analysis.nonblocking import Exemptions
from audit.analysis.recorder import Recorder
from audit.analysis.recorders import recorders_for
from audit.analysis.recorders.calls import Calls
from audit.analysis.recorders.futures import Futures
from audit.analysis.recorders.guards import Guards
from audit.analysis.recorders.iteration import Iteration
from audit.analysis.recorders.parameter_writes import ParameterWrites
from audit.analysis.resolve import Resolver
from audit.analysis.values import CallTarget, FunctionTarget, Instance, MethodTarget, Ref
from audit.analysis.walk.walker import ModuleWalker
from audit.catalogue import Catalogue
from audit.core.findings import Inventory
from audit.core.settings import AnalysisSettings

_PROBES = frozenset({"builtins.hasattr", "builtins.getattr"})
_NO_TYPE_CHECK = frozenset({"typing.no_type_check", "typing_extensions.no_type_check"})
_CASTS = frozenset({"typing.cast", "typing_extensions.cast"})
_ANY = frozenset({"typing.Any", "typing_extensions.Any"})
T = TypeVar("T")
R = TypeVar("R", bound=Recorder)
EVERY_FACT: Facts = frozenset(Fact)


class MissingFact(LookupError):
    """A fact was read that the walk did not record: its reader did not declare it."""


@dataclass(frozen=True)
class LoopCall:
    """A call that runs on the event loop: directly in an `async def` (or a class body or
    comprehension inside one), not in a nested sync `def` or `lambda`."""

    site: CallSite
    target: CallTarget | None
    awaited: bool
    blocking: BlockingCall | None

    @property
    def node(self) -> cst.Call:
        return self.site.node

    @property
    def function(self) -> str | None:
        return self.site.scope.function_qualname

    @property
    def method(self) -> str | None:
        """The attribute called (`delete` in `store.delete(...)`), None for a plain name."""
        func = self.site.node.func
        return func.attr.value if isinstance(func, cst.Attribute) else None

    @property
    def receiver(self) -> cst.BaseExpression | None:
        """The object a method is called on (`store` in `store.delete(...)`)."""
        func = self.site.node.func
        return func.value if isinstance(func, cst.Attribute) else None

    @property
    def instance(self) -> Instance | None:
        """The receiver, when its type is known."""
        return self.target.instance if isinstance(self.target, MethodTarget) else None


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
        facts: Facts = EVERY_FACT,
    ) -> None:
        self.path = path
        self.module_name = module_name
        self.is_package = is_package
        self.text = text
        self.tree = tree
        self.catalogue = catalogue
        self.settings = settings
        self.facts = facts  # the kinds of fact the walk records
        self._calls: dict[int, LoopCall] = {}
        self._derived: dict[Callable[[FileContext], object], object] = {}

    @cached_property
    def has_async(self) -> bool:
        """Cheap pre-filter: without the keyword `async` there is no coroutine to check."""
        return prefilter.has_async(self.text)

    @cached_property
    def _walk(self) -> tuple[ModuleModel, dict[type[Recorder], Recorder]]:
        settings = self.settings
        conditions = ConditionReader(
            settings.target_version, settings.target_platform
        ).with_module_flags(self.tree, self.text)
        walker = ModuleWalker(
            self.module_name,
            self.is_package,
            conditions,
            recorders_for(self.facts),
            self.catalogue,
        )
        return walker.run(self.tree), walker.recorded()

    @property
    def model(self) -> ModuleModel:
        return self._walk[0]

    def recorded(self, kind: type[R]) -> R:
        """What a recorder recorded in this file's walk."""
        recorder = self._walk[1].get(kind)
        if not isinstance(recorder, kind):
            raise MissingFact(f"{kind.fact.name} was not recorded for {self.path}")
        return recorder

    @cached_property
    def assumptions(self) -> Assumptions:
        """Judges what the walk assumed of names it spotted (`list` is the builtin)."""
        return Assumptions(self.resolver, self.model.sites)

    @cached_property
    def resolver(self) -> Resolver:
        return Resolver(self.model, self.catalogue, self.settings.configured_types)

    @cached_property
    def deferred_resolver(self) -> Resolver:
        """Names as the project pass reads them: values made by other modules' callables
        are deferred types it resolves against their summaries."""
        return Resolver(self.model, self.catalogue, self.settings.configured_types, deferred=True)

    def derived(self, build: Callable[[FileContext], T]) -> T:
        """What `build` derives from this file, built once: facts that layers above the
        analysis (fixes, rules) compute from it without the analysis knowing them."""
        known = self._derived.get(build)
        if known is None:
            known = self._derived[build] = build(self)
        return cast(T, known)

    # -- calls ---------------------------------------------------------------------------

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
        awaited = self.recorded(Calls).is_awaited(site.node)
        blocking = classify(
            site.node,
            target,
            awaited,
            catalogue=self.catalogue,
            settings=self.settings,
            imports=self.imported_packages,
        )
        if (
            blocking is not None
            and target is not None
            and self.exemptions.applies(site, target, blocking.callee)
        ):
            blocking = None
        resolved = LoopCall(site, target, awaited, blocking)
        self._calls[id(site)] = resolved
        return resolved

    @cached_property
    def exemptions(self) -> Exemptions:
        """Calls of blocking callables that do not block where they are made."""
        iteration, futures = self.recorded(Iteration), self.recorded(Futures)
        return Exemptions(
            self.model,
            self.catalogue,
            self.settings.target_version,
            iterated=lambda site: iteration.is_iterated(site, self.assumptions),
            settled=lambda site: futures.is_settled(site, self.assumptions),
            handled=self.recorded(Guards).handled,
        )

    @cached_property
    def imported_packages(self) -> frozenset[str]:
        return frozenset(name.partition(".")[0] for name in self.model.imported)

    @cached_property
    def probes(self) -> dict[str, set[tuple[str, str]]]:
        """Per coroutine: the `(receiver, attribute)` pairs it probes with `hasattr` or
        `getattr` (`hasattr(self.store, "adelete")`), receivers as written."""
        probes: dict[str, set[tuple[str, str]]] = {}
        if "hasattr" not in self.text and "getattr" not in self.text:
            return probes
        for call in self.loop_calls:
            target, args = call.target, call.node.args
            if (
                isinstance(target, FunctionTarget)
                and target.qualified in _PROBES
                and len(args) >= 2
                and call.function is not None
            ):
                name = string_value(args[1].value)
                if name is not None:
                    receiver = self.source(args[0].value, limit=200)
                    probes.setdefault(call.function, set()).add((receiver, name))
        return probes

    # -- parameters ----------------------------------------------------------------------

    @cached_property
    def parameter_writes(self) -> list[ParameterWrite]:
        """Writes that change an object a function received as a parameter."""
        if not prefilter.has_functions(self.text):
            return []
        return parameter_writes(
            self.model.functions,
            self.recorded(ParameterWrites),
            self.resolver,
            self.assumptions,
            self.settings.mutation_ignore_names,
            self.path,
        )

    # -- type-checking escapes -----------------------------------------------------------

    @cached_property
    def ignores(self) -> list[Ignore]:
        return find_ignores(self.text)

    @cached_property
    def no_type_check(self) -> list[cst.Decorator]:
        """`@typing.no_type_check` decorators: the function or class is not type checked."""
        if "no_type_check" not in self.text:
            return []
        found = []
        for decorator, scope in self.model.decorators:
            value = self.resolver.value(decorator.decorator, scope)
            if isinstance(value, Ref) and value.qualified in _NO_TYPE_CHECK:
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
        return sum(
            1
            for site in self.model.calls
            if site.node.args
            and isinstance(target := self.resolver.call_target(site), FunctionTarget)
            and target.qualified in _CASTS
        )

    def _count_any(self) -> int:
        if "Any" not in self.text:
            return 0
        reader = self.resolver.annotations
        return sum(
            1
            for annotation, scope in self.model.annotations
            for name in reader.names(annotation, "Any", scope)
            if name in _ANY
        )

    # -- text ----------------------------------------------------------------------------

    def source(self, node: cst.CSTNode, limit: int = 60) -> str:
        """The code of a node on one line, shortened for messages."""
        text = " ".join(self.tree.code_for_node(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."
