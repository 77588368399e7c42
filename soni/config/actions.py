"""Actions: the public functions of the module named by `settings.actions`.

An action receives the slots named by its parameters as keyword arguments (or every slot
through a single `slots` parameter) and returns a mapping. Async actions are awaited; sync
ones run in a worker thread, never on the event loop.

A module may also define `lifespan()`, an async context manager (not an action): the runtime
enters it when it starts and leaves it when it closes, so actions can share what is costly
to open per call (a connection, a client) and close it cleanly.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from soni.config.returns import returned_keys
from soni.core.slots import SlotValue
from soni.errors import ActionError

_JSON_VALUES = (str, int, float, bool, type(None))
LIFESPAN = "lifespan"
"""The name of a module's optional async context manager factory (not an action)."""

Lifespan = Callable[[], AbstractAsyncContextManager[object]]


@dataclass(frozen=True)
class Action:
    name: str
    function: Callable[..., Any]
    parameters: tuple[str, ...]
    required: frozenset[str]
    takes_all_slots: bool
    returns: frozenset[str] | None = None
    """The keys its result has, when its code says so for certain (see `returns`)."""

    @classmethod
    def of(cls, name: str, function: Callable[..., Any]) -> Action:
        signature = inspect.signature(function)
        parameters = tuple(
            p.name
            for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        )
        required = frozenset(
            p.name for p in signature.parameters.values() if p.default is inspect.Parameter.empty
        )
        return cls(
            name,
            function,
            parameters,
            required,
            parameters == ("slots",),
            returned_keys(function),
        )

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)


class ActionRegistry:
    def __init__(
        self, actions: Mapping[str, Action] | None = None, *, lifespan: Lifespan | None = None
    ) -> None:
        self._actions = dict(actions or {})
        self._lifespan = lifespan

    @classmethod
    def from_functions(
        cls, functions: Mapping[str, Callable[..., Any]], *, lifespan: Lifespan | None = None
    ) -> ActionRegistry:
        return cls(
            {name: Action.of(name, function) for name, function in functions.items()},
            lifespan=lifespan,
        )

    @classmethod
    def from_module(cls, module_name: str, search_dir: Path) -> ActionRegistry:
        """Import `module_name`: a file or package in `search_dir` (loaded under a private
        name, so two configurations may both call their module `actions`), else a module
        on the import path."""
        relative = Path(*module_name.split("."))
        for candidate in (
            search_dir / relative.with_suffix(".py"),
            search_dir / relative / "__init__.py",
        ):
            if candidate.is_file():
                module = _load_file(module_name, candidate)
                break
        else:
            module = importlib.import_module(module_name)
        functions = {
            name: member
            for name, member in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_")
            and name != LIFESPAN
            and member.__module__ == module.__name__
        }
        lifespan = getattr(module, LIFESPAN, None)
        if lifespan is not None and not callable(lifespan):
            raise TypeError(f"{module_name}.{LIFESPAN} must be an async context manager factory")
        return cls.from_functions(functions, lifespan=lifespan)

    async def open(self, stack: AsyncExitStack) -> None:
        """Enter the module's `lifespan` (if any) for as long as `stack` is open."""
        if self._lifespan is None:
            return
        manager = self._lifespan()
        if not isinstance(manager, AbstractAsyncContextManager):
            raise TypeError(
                f"{LIFESPAN}() returned {type(manager).__name__}, expected an async context "
                "manager (decorate it with @contextlib.asynccontextmanager)"
            )
        await stack.enter_async_context(manager)

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._actions))

    @property
    def actions(self) -> Mapping[str, Action]:
        return MappingProxyType(self._actions)

    async def run(self, name: str, slots: Mapping[str, SlotValue]) -> dict[str, SlotValue]:
        action = self._actions.get(name)
        if action is None:
            raise ActionError(name, "no such action")
        if action.takes_all_slots:
            arguments: dict[str, Any] = {"slots": dict(slots)}
        else:
            arguments = {
                parameter: slots.get(parameter)
                for parameter in action.parameters
                if parameter in slots or parameter in action.required
            }
        try:
            if action.is_async:
                result = await action.function(**arguments)
            else:
                result = await asyncio.to_thread(action.function, **arguments)
        except Exception as error:
            raise ActionError(name, f"raised {type(error).__name__}: {error}") from error
        return _checked(name, result)


def _load_file(module_name: str, path: Path) -> ModuleType:
    digest = hashlib.blake2b(str(path.resolve()).encode(), digest_size=6).hexdigest()
    private = f"_soni_actions_{digest}_{module_name.replace('.', '_')}"
    if private in sys.modules:
        return sys.modules[private]
    spec = importlib.util.spec_from_file_location(
        private,
        path,
        submodule_search_locations=[str(path.parent)] if path.stem == "__init__" else None,
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[private] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[private]
        raise
    return module


def _checked(name: str, result: Any) -> dict[str, SlotValue]:
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise ActionError(name, f"returned {type(result).__name__}, expected a mapping")
    checked: dict[str, SlotValue] = {}
    for key, value in result.items():
        if not isinstance(key, str) or not isinstance(value, _JSON_VALUES):
            raise ActionError(
                name, f"returned {key!r}: {value!r}; values must be str, int, float, bool or None"
            )
        checked[key] = value
    return checked
