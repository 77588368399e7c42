"""The catalogue of blocking callables, loaded from `blocking.toml` beside this module.

What blocks is data, not code: adding a library means adding lines to the TOML file. This
module only validates that file and answers lookups.
"""

from __future__ import annotations

import enum
import fnmatch
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any

CATALOGUE_FILE = "blocking.toml"


class CatalogueError(ValueError):
    """The catalogue file is malformed (names the entry and the problem)."""


class Call(enum.Enum):
    """How an async replacement is called in place of a blocking call."""

    AWAIT = "await"  # `await callable(<the same arguments>)`
    OFFLOAD = "offload"  # `await callable(blocking_callable, <its arguments>)`


@dataclass(frozen=True)
class Replacement:
    """An async callable to use instead of a blocking one: `callable` is its full dotted
    name, reached from `library` (the package to import); `keywords` whether an offload
    passes keyword arguments on to the blocking callable."""

    library: str
    callable: str
    call: Call
    keywords: bool = True


@dataclass(frozen=True)
class Family:
    id: str
    reason: str
    alternative: str
    functions: tuple[str, ...]
    replacements: tuple[Replacement, ...] = ()
    docs: str = ""  # where the async alternative is documented

    @property
    def advice(self) -> str:
        """What to use instead, with where it is documented."""
        return f"{self.alternative} ({self.docs})" if self.docs else self.alternative

    def replacement(self, libraries: frozenset[str]) -> Replacement | None:
        """The drop-in replacement for a module that imports `libraries` (None when the
        family has none)."""
        return _for_library(self.replacements, libraries)


def _is_pattern(entry: str) -> bool:
    return any(character in entry for character in "*?[")


@dataclass(frozen=True)
class Names:
    """Names listed exactly or by shell-style patterns (`"[A-Z]*"`: sub-resources), split
    once when the catalogue is read."""

    exact: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> Names:
        listed = tuple(entries)
        patterns = tuple(entry for entry in listed if _is_pattern(entry))
        return cls(frozenset(listed) - set(patterns), patterns)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (
            name in self.exact
            or any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)
        )

    def __iter__(self) -> Iterator[str]:
        return iter((*sorted(self.exact), *self.patterns))


@dataclass(frozen=True)
class NameTable:
    """Name -> type, keyed exactly or by shell-style patterns; an exact key wins, then the
    first pattern that matches."""

    exact: Mapping[str, str] = field(default_factory=dict)
    patterns: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, table: Mapping[str, str]) -> NameTable:
        patterns = tuple((key, value) for key, value in table.items() if _is_pattern(key))
        exact = {key: value for key, value in table.items() if not _is_pattern(key)}
        return cls(exact, patterns)

    def get(self, name: str) -> str | None:
        found = self.exact.get(name)
        if found is not None:
            return found
        return next((v for key, v in self.patterns if fnmatch.fnmatchcase(name, key)), None)


@dataclass(frozen=True)
class Spotted:
    """Callables the walk spots by the last part of how a call spells them (`list(...)`,
    `aio.wrap_future(...)`), and the analysis confirms once the module's names are resolved:
    a module's own `def list()` is not the builtin."""

    names: frozenset[str] = frozenset()
    positions: Mapping[str, int] = field(default_factory=dict, hash=False, compare=False)
    """The argument each one acts on, by last part, where it is not the first
    (`heapq.nlargest(n, iterable)`)."""

    def position(self, spelled: str) -> int:
        return self.positions.get(spelled.rpartition(".")[2], 0)

    @cached_property
    def last_parts(self) -> frozenset[str]:
        return frozenset(name.rpartition(".")[2] for name in self.names)

    def spots(self, spelled: str) -> bool:
        """A call spelled so may be one of them."""
        return spelled.rpartition(".")[2] in self.last_parts

    def confirms(self, qualified: str, *, spelled_only: bool) -> bool:
        """The callee resolved to `qualified` is one of them; a name bound nowhere in the
        file (`spelled_only`: a snippet without its imports) is taken by its last part."""
        if spelled_only:
            return qualified.rpartition(".")[2] in self.last_parts
        return qualified in self.names


@dataclass(frozen=True)
class BlockingType:
    name: str
    family: Family | None
    methods: Names
    all_methods: bool
    exempt: Names
    nonblocking: Mapping[str, str]
    returns: NameTable
    attributes: NameTable
    enter: str | None
    aliases: tuple[str, ...]
    async_methods: frozenset[str] = frozenset()
    modes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    would_block: frozenset[str] = frozenset()
    handed_to: frozenset[str] = frozenset()
    when_done: frozenset[str] = frozenset()
    items: str | None = None
    handed_as: Mapping[str, str] = field(default_factory=dict)
    nonblocking_flags: frozenset[str] = frozenset()

    def blocks(self, method: str) -> bool:
        if self.family is None:
            return False
        if self.all_methods:
            return method not in self.exempt and not method.startswith("_")
        return method in self.methods


@dataclass(frozen=True)
class Heuristic:
    id: str
    family: Family
    method: str
    first_argument: frozenset[str]
    when_module_imports: str
    assumed_type: str


@dataclass(frozen=True)
class Catalogue:
    families: Mapping[str, Family]
    functions: Mapping[str, Family]
    types: Mapping[str, BlockingType]
    aliases: Mapping[str, str]
    returns: Mapping[str, str]
    heuristics: tuple[Heuristic, ...] = field(default=())
    bridges: Mapping[str, int] = field(default_factory=dict)
    bridge_methods: Mapping[str, int] = field(default_factory=dict)
    async_functions: frozenset[str] = frozenset()
    async_types: Mapping[str, frozenset[str]] = field(default_factory=dict)
    review_methods: tuple[str, ...] = ()
    offloads: tuple[Replacement, ...] = ()
    lazy: Mapping[str, tuple[int, int] | None] = field(default_factory=dict)
    unless_argument: Mapping[str, str] = field(default_factory=dict)
    key_callers: frozenset[str] = frozenset()
    """Callables that call their `key=` argument once per element (`sorted`, `max`)."""
    key_methods: frozenset[str] = frozenset()
    """Methods that do the same, whatever the receiver (`items.sort(key=...)`)."""
    consumers: Spotted = Spotted()
    wrappers: Spotted = Spotted()
    future_waiters: Spotted = Spotted()

    def is_lazy(self, callee: str, version: tuple[int, int]) -> bool:
        """Calling `callee` only makes an iterator: its I/O happens as it is iterated (on
        Python versions before the recorded bound, when there is one)."""
        if callee not in self.lazy:
            owner, _, method = callee.rpartition(".")
            callee = f"{self.canonical_type(owner)}.{method}"
            if callee not in self.lazy:
                return False
        before = self.lazy[callee]
        return before is None or version < before

    def offload(self, libraries: frozenset[str]) -> Replacement | None:
        """How a module that imports `libraries` runs a blocking call in a thread."""
        return _for_library(self.offloads, libraries)

    def canonical_type(self, name: str) -> str:
        return self.aliases.get(name, name)

    def type_named(self, name: str) -> BlockingType | None:
        return self.types.get(self.canonical_type(name))

    def function_family(self, qualified: str) -> Family | None:
        return self.functions.get(qualified)

    def method_family(self, type_name: str, method: str) -> Family | None:
        blocking_type = self.type_named(type_name)
        if blocking_type is None or not blocking_type.blocks(method):
            return None
        return blocking_type.family

    def call_returns(self, qualified: str) -> str | None:
        """The type of `qualified(...)`: a declared return type, or the class it constructs."""
        declared = self.returns.get(qualified)
        if declared is not None:
            return self.canonical_type(declared)
        canonical = self.canonical_type(qualified)
        return canonical if canonical in self.types else None

    def method_returns(self, type_name: str, method: str) -> str | None:
        blocking_type = self.type_named(type_name)
        if blocking_type is None:
            return None
        returned = blocking_type.returns.get(method)
        return self.canonical_type(returned) if returned is not None else None

    def attribute_type(self, type_name: str, attribute: str) -> str | None:
        blocking_type = self.type_named(type_name)
        if blocking_type is None:
            return None
        found = blocking_type.attributes.get(attribute)
        return self.canonical_type(found) if found is not None else None

    def item_type(self, type_name: str) -> str | None:
        """The type of `obj[key]` for an object of a known type (`client["db"]`)."""
        blocking_type = self.type_named(type_name)
        if blocking_type is None or blocking_type.items is None:
            return None
        return self.canonical_type(blocking_type.items)

    def entered_type(self, type_name: str) -> str | None:
        """The type bound by `with obj as name` for an object of a known type."""
        blocking_type = self.type_named(type_name)
        if blocking_type is None:
            return None
        return self.canonical_type(blocking_type.enter or blocking_type.name)

    def is_async_io(self, qualified: str) -> bool:
        """An async function or coroutine method that performs I/O (report listing)."""
        if qualified in self.async_functions:
            return True
        type_name, _, method = qualified.rpartition(".")
        methods = self.async_types.get(type_name)
        if methods is not None:
            return "*" in methods or method in methods
        blocking_type = self.type_named(type_name)
        return blocking_type is not None and method in blocking_type.async_methods

    def is_async_type(self, type_name: str) -> bool:
        return type_name in self.async_types

    def knows(self, qualified: str) -> bool:
        """True when the name is a function, type or typed return the catalogue describes."""
        return (
            qualified in self.functions
            or qualified in self.returns
            or self.canonical_type(qualified) in self.types
        )


def _for_library(choices: tuple[Replacement, ...], libraries: frozenset[str]) -> Replacement | None:
    """The first choice whose library the module imports, else asyncio's."""
    used = next((choice for choice in choices if choice.library in libraries), None)
    return used or next((choice for choice in choices if choice.library == "asyncio"), None)


def load_data_file(name: str) -> dict[str, Any]:
    """A TOML data file shipped beside this module."""
    return tomllib.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


@cache
def default_catalogue() -> Catalogue:
    return parse_catalogue(load_data_file(CATALOGUE_FILE))


def catalogue_fingerprint() -> str:
    """Changes whenever any data file's content does (part of the cache key)."""
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            digest.update(entry.read_bytes())
    return digest.hexdigest()


_FAMILY_KEYS = {"reason", "alternative", "functions", "replacements", "docs"}
_REPLACEMENT_KEYS = {"library", "callable", "keywords"}
_TYPE_KEYS = {
    "family",
    "methods",
    "except",
    "nonblocking",
    "returns",
    "attributes",
    "enter",
    "aliases",
    "async-methods",
    "nonblocking-modes",
    "would-block",
    "handed-to",
    "when-done",
    "items",
    "handed-as",
    "nonblocking-flags",
}
_HEURISTIC_KEYS = {"family", "method", "first-argument", "when-module-imports", "assumed-type"}


def _check_keys(where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CatalogueError(f"{where}: expected a list of strings")
    return tuple(value)


def _optional_string(where: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise CatalogueError(f"{where}: expected a string")
    return value


def _string_map(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise CatalogueError(f"{where}: expected a table of strings")
    return dict(value)


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    _check_keys(
        "catalogue",
        data,
        {
            "families",
            "types",
            "returns",
            "heuristics",
            "bridges",
            "bridge-methods",
            "async-io",
            "review",
            "offloads",
            "lazy",
            "unless-argument",
            "iteration",
            "futures",
            "callbacks",
        },
    )
    families: dict[str, Family] = {}
    functions: dict[str, Family] = {}
    for family_id, table in data.get("families", {}).items():
        where = f"families.{family_id}"
        _check_keys(where, table, _FAMILY_KEYS)
        family = Family(
            family_id,
            str(table["reason"]),
            str(table["alternative"]),
            _strings(f"{where}.functions", table.get("functions", [])),
            _replacements(f"{where}.replacements", table.get("replacements", []), Call.AWAIT),
            str(table.get("docs", "")),
        )
        families[family_id] = family
        for name in family.functions:
            if name in functions:
                raise CatalogueError(f"{where}: {name} is already in {functions[name].id}")
            functions[name] = family

    def family_named(where: str, name: Any) -> Family:
        if name not in families:
            raise CatalogueError(f"{where}: unknown family {name!r}")
        return families[name]

    types: dict[str, BlockingType] = {}
    aliases: dict[str, str] = {}
    for type_name, table in data.get("types", {}).items():
        where = f'types."{type_name}"'
        _check_keys(where, table, _TYPE_KEYS)
        methods = _strings(f"{where}.methods", table.get("methods", []))
        type_family = family_named(where, table["family"]) if "family" in table else None
        if methods and type_family is None:
            raise CatalogueError(f"{where}: blocking methods need a family")
        blocking_type = BlockingType(
            name=type_name,
            family=type_family,
            methods=Names.of(m for m in methods if m != "*"),
            all_methods="*" in methods,
            exempt=Names.of(_strings(f"{where}.except", table.get("except", []))),
            nonblocking=_string_map(f"{where}.nonblocking", table.get("nonblocking", {})),
            returns=NameTable.of(_string_map(f"{where}.returns", table.get("returns", {}))),
            attributes=NameTable.of(
                _string_map(f"{where}.attributes", table.get("attributes", {}))
            ),
            enter=table.get("enter"),
            aliases=_strings(f"{where}.aliases", table.get("aliases", [])),
            async_methods=frozenset(
                _strings(f"{where}.async-methods", table.get("async-methods", []))
            ),
            modes={
                method: frozenset(_strings(f"{where}.nonblocking-modes.{method}", values))
                for method, values in table.get("nonblocking-modes", {}).items()
            },
            would_block=frozenset(_strings(f"{where}.would-block", table.get("would-block", []))),
            handed_to=frozenset(_strings(f"{where}.handed-to", table.get("handed-to", []))),
            when_done=frozenset(_strings(f"{where}.when-done", table.get("when-done", []))),
            items=_optional_string(f"{where}.items", table.get("items")),
            handed_as=_string_map(f"{where}.handed-as", table.get("handed-as", {})),
            nonblocking_flags=frozenset(
                _strings(f"{where}.nonblocking-flags", table.get("nonblocking-flags", []))
            ),
        )
        types[type_name] = blocking_type
        for alias in blocking_type.aliases:
            if alias in aliases or alias in types:
                raise CatalogueError(f"{where}: alias {alias} is declared twice")
            aliases[alias] = type_name

    heuristics = []
    for heuristic_id, table in data.get("heuristics", {}).items():
        where = f"heuristics.{heuristic_id}"
        _check_keys(where, table, _HEURISTIC_KEYS)
        heuristics.append(
            Heuristic(
                heuristic_id,
                family_named(where, table["family"]),
                str(table["method"]),
                frozenset(_strings(f"{where}.first-argument", table["first-argument"])),
                str(table["when-module-imports"]),
                str(table["assumed-type"]),
            )
        )
    return Catalogue(
        families=families,
        functions=functions,
        types=types,
        aliases=aliases,
        returns=_string_map("returns", data.get("returns", {})),
        heuristics=tuple(heuristics),
        bridges=_positions("bridges", data.get("bridges", {})),
        bridge_methods=_positions("bridge-methods", data.get("bridge-methods", {})),
        async_functions=frozenset(
            _strings("async-io.functions", data.get("async-io", {}).get("functions", []))
        ),
        async_types={
            name: frozenset(_strings(f'async-io.types."{name}"', methods))
            for name, methods in data.get("async-io", {}).get("types", {}).items()
        },
        review_methods=_strings(
            "review.io-method-names", data.get("review", {}).get("io-method-names", [])
        ),
        offloads=_replacements("offloads", data.get("offloads", []), Call.OFFLOAD),
        lazy=_lazy(data.get("lazy", {})),
        unless_argument=_string_map("unless-argument", data.get("unless-argument", {})),
        key_callers=frozenset(_strings("callbacks.key", data.get("callbacks", {}).get("key", []))),
        key_methods=frozenset(
            _strings("callbacks.key-methods", data.get("callbacks", {}).get("key-methods", []))
        ),
        consumers=_spotted("iteration", "consumers", data),
        wrappers=_spotted("iteration", "wrappers", data),
        future_waiters=_spotted("futures", "waiters", data),
    )


def _spotted(section: str, key: str, data: Mapping[str, Any]) -> Spotted:
    table = data.get(section, {})
    allowed = {"consumers", "wrappers", "positions"} if section == "iteration" else {key}
    _check_keys(section, table, allowed)
    names = frozenset(_strings(f"{section}.{key}", table.get(key, [])))
    positions = {
        name.rpartition(".")[2]: position
        for name, position in _positions(f"{section}.positions", table.get("positions", {})).items()
        if name in names
    }
    return Spotted(names, positions)


def _lazy(value: Any) -> dict[str, tuple[int, int] | None]:
    """`name = ""` (lazy everywhere) or `name = "<3.13"` (lazy before 3.13)."""
    found: dict[str, tuple[int, int] | None] = {}
    for name, bound in _string_map("lazy", value).items():
        if bound == "":
            found[name] = None
            continue
        match = re.fullmatch(r"<3\.(\d+)", bound)
        if match is None:
            raise CatalogueError(f'lazy."{name}": expected "" or "<3.N", not {bound!r}')
        found[name] = (3, int(match[1]))
    return found


def _replacements(where: str, value: Any, call: Call) -> tuple[Replacement, ...]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise CatalogueError(f"{where}: expected a list of tables")
    found = []
    for index, table in enumerate(value):
        entry = f"{where}[{index}]"
        _check_keys(entry, table, _REPLACEMENT_KEYS)
        library, name = table.get("library"), table.get("callable")
        if not isinstance(library, str) or not isinstance(name, str):
            raise CatalogueError(f"{entry}: needs `library` and `callable` strings")
        if name.partition(".")[0] != library:
            raise CatalogueError(f"{entry}: {name} is not reached from {library}")
        keywords = table.get("keywords", True)
        if not isinstance(keywords, bool):
            raise CatalogueError(f"{entry}.keywords: expected true or false")
        found.append(Replacement(library, name, call, keywords))
    return tuple(found)


def _positions(where: str, value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        isinstance(v, int) and v >= 0 for v in value.values()
    ):
        raise CatalogueError(f"{where}: expected a table of argument positions")
    return dict(value)
