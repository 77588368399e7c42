"""Following names into installed modules (`audit.dependencies.reach`): only the modules
met on the way are loaded, and a star import of compiled code ends the way."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from audit.core.facts import ClassFacts, FunctionFacts, ModuleFacts
from audit.dependencies.reach import Reach


class Index:
    """The installed modules that have a Python file (`pkg._native` is compiled)."""

    def __init__(self, modules: Mapping[str, ModuleFacts]) -> None:
        self.modules = modules

    def file_of(self, module: str) -> Path | None:
        return Path(module.replace(".", "/") + ".py") if module in self.modules else None


MODULES = {
    "pkg": ModuleFacts(
        aliases={"*0": "pkg._native", "*1": "pkg._python", "Thing": "pkg.core.Thing"}
    ),
    "pkg.core": ModuleFacts(
        functions=(FunctionFacts("pkg.core.Thing.__init__", False),),
        classes=(ClassFacts("pkg.core.Thing", (), {"__init__": False}),),
    ),
    "pkg._python": ModuleFacts(functions=(FunctionFacts("pkg._python.compress", False),)),
    "pkg.unused": ModuleFacts(),
}


def _reach(*calls: str) -> tuple[Reach, list[list[str]]]:
    loads: list[list[str]] = []

    def load(names: list[str]) -> Mapping[str, ModuleFacts]:
        loads.append(names)
        return {name: MODULES[name] for name in names if name in MODULES}

    reach = Reach(Index(MODULES), load)
    reach.follow(calls)
    return reach, loads


def test_only_the_modules_met_are_loaded() -> None:
    reach, _ = _reach("pkg.Thing")
    assert set(reach.modules) == {"pkg", "pkg.core"}
    assert "pkg.core.Thing.__init__" in reach.functions


def test_a_star_import_of_compiled_code_ends_the_way() -> None:
    """`from ._native import *` with `_native` compiled: `pkg.compress` is looked up in
    the star modules that can be read, and the name never grows (it grew without end:
    `pkg._native._native._native...compress`)."""
    reach, loads = _reach("pkg.compress", "pkg.decompress")
    assert "pkg._python" in reach.modules
    assert "pkg._python.compress" in reach.functions
    assert len(loads) <= 3
    assert all(name.count("_native") <= 1 for names in loads for name in names)
    assert reach.followed < 20
