"""What a rule sees of one file: its text, tree, model and resolved calls, all built lazily."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import libcst as cst

from audit.analysis.model import CallSite, ModuleModel
from audit.analysis.resolve import CallTarget, Resolver
from audit.analysis.settings import AnalysisSettings
from audit.analysis.walker import ModuleWalker
from audit.catalogue import Catalogue


@dataclass(frozen=True)
class RawFinding:
    """A finding still attached to its node; positions are computed once for all of them."""

    code: str
    node: cst.CSTNode
    message: str
    function: str | None = None


@dataclass(frozen=True)
class LoopCall:
    """A call that runs on the event loop: directly in an `async def` (or a class body or
    comprehension inside one), not in a nested sync `def` or `lambda`."""

    site: CallSite
    target: CallTarget | None
    awaited: bool

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
        model, resolver = self.model, self.resolver
        return [
            LoopCall(site, resolver.call_target(site), model.is_awaited(site.node))
            for site in model.calls
            if site.scope.runs_on_loop
        ]

    def source(self, node: cst.CSTNode, limit: int = 60) -> str:
        """The code of a node on one line, shortened for messages."""
        text = " ".join(self.tree.code_for_node(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."
