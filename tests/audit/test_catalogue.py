"""The catalogue is data: every entry in it must be found, through every import style."""

from __future__ import annotations

import re
import sys

import pytest

from audit.catalogue import CatalogueError, default_catalogue, parse_catalogue
from tests.conftest import analyze

CATALOGUE = default_catalogue()
FUNCTIONS = sorted(CATALOGUE.functions)
BLOCKING_METHODS = sorted(
    (type_name, method)
    for blocking_type in CATALOGUE.types.values()
    if blocking_type.family is not None
    for type_name in (blocking_type.name, *blocking_type.aliases)
    for method in (sorted(blocking_type.methods) or ["some_command"])
)

# What FACTS.md lists as the peers' ground, plus what the engine issue asks for on top.
REQUIRED_FUNCTIONS = [
    *(
        f"requests.{m}"
        for m in ("get", "options", "head", "post", "put", "patch", "delete", "request")
    ),
    *(
        f"httpx.{m}"
        for m in ("get", "options", "head", "post", "put", "patch", "delete", "request")
    ),
    "urllib.request.urlopen",
    "urllib3.request",
    *(
        f"subprocess.{f}"
        for f in (
            "run",
            "call",
            "check_call",
            "check_output",
            "getoutput",
            "getstatusoutput",
            "Popen",
        )
    ),
    "os.system",
    "os.popen",
    "os.posix_spawn",
    "os.posix_spawnp",
    "os.spawnl",
    "os.spawnvpe",
    "os.wait",
    "os.waitpid",
    "os.wait3",
    "os.wait4",
    "os.waitid",
    "builtins.open",
    "io.open",
    "io.open_code",
    "os.fdopen",
    *(
        f"os.path.{f}"
        for f in (
            "exists",
            "isdir",
            "isfile",
            "islink",
            "ismount",
            "lexists",
            "realpath",
            "relpath",
            "samefile",
            "getsize",
            "getatime",
            "getmtime",
            "getctime",
        )
    ),
    "time.sleep",
    "builtins.input",
    "sqlite3.connect",
    "psycopg2.connect",
    "socket.create_connection",
    "socket.getaddrinfo",
    "shutil.copy",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
    "shutil.rmtree",
    "os.remove",
    "os.rename",
    "os.mkdir",
    "os.makedirs",
    "os.listdir",
    "os.stat",
    "glob.glob",
    "json.load",
]
REQUIRED_METHODS = [
    *(
        ("httpx.Client", m)
        for m in (
            "close",
            "delete",
            "get",
            "head",
            "options",
            "patch",
            "post",
            "put",
            "request",
            "send",
            "stream",
        )
    ),
    ("urllib3.PoolManager", "urlopen"),
    ("urllib3.HTTPConnectionPool", "request"),
    ("urllib3.ProxyManager", "request"),
    ("urllib3.HTTPSConnectionPool", "urlopen"),
    ("io.TextIOWrapper", "read"),
    ("io.BufferedReader", "read"),
    ("io.BufferedWriter", "write"),
    ("pathlib.Path", "exists"),
    ("pathlib.Path", "read_text"),
    ("pathlib.Path", "write_text"),
    ("pathlib.Path", "open"),
    ("pathlib.Path", "resolve"),
    ("pathlib.Path", "iterdir"),
    ("sqlite3.Connection", "execute"),
    ("sqlite3.Cursor", "fetchall"),
    ("psycopg2.extensions.cursor", "execute"),
    ("redis.Redis", "get"),
    ("redis.Redis", "set"),
    ("socket.socket", "recv"),
    ("socket.socket", "connect"),
]


_VERSION = sys.version_info[:2]


def _used(call: str, qualified: str) -> str:
    """The call as a statement; a lazy callable's iterator is iterated (where it blocks)."""
    return f"for _ in {call}: pass" if CATALOGUE.is_lazy(qualified, _VERSION) else call


def _call_forms(qualified: str) -> list[str]:
    """`import top; top.a.b()` and `from top import a as alias; alias.b()`."""
    parts = qualified.split(".")
    rest = ".".join(parts[2:])
    aliased = "alias" + (f".{rest}" if rest else "")
    return [
        f"import {parts[0]}\n\nasync def f():\n    {_used(qualified + '()', qualified)}\n",
        f"from {parts[0]} import {parts[1]} as alias\n\nasync def f():\n"
        f"    {_used(aliased + '()', qualified)}\n",
    ]


@pytest.mark.parametrize("qualified", FUNCTIONS)
def test_every_catalogue_function_is_found(qualified: str) -> None:
    for code in _call_forms(qualified):
        assert [(f.line, f.code) for f in analyze(code)] == [(4, "BLK100")], code


@pytest.mark.parametrize("qualified", FUNCTIONS)
def test_catalogue_functions_are_fine_in_sync_code(qualified: str) -> None:
    code = _call_forms(qualified)[0].replace("async def", "def")
    assert analyze(code) == []


@pytest.mark.parametrize(("type_name", "method"), BLOCKING_METHODS)
def test_every_blocking_method_is_found_on_an_annotated_receiver(
    type_name: str, method: str
) -> None:
    call = _used(f"x.{method}()", f"{type_name}.{method}")
    code = f"import {type_name.split('.')[0]}\n\nasync def f(x: {type_name}):\n    {call}\n"
    assert [(f.line, f.code) for f in analyze(code)] == [(4, "BLK101")], code


LAZY = sorted(CATALOGUE.lazy)


@pytest.mark.parametrize("qualified", LAZY)
def test_a_lazy_callable_blocks_where_it_is_iterated(qualified: str) -> None:
    owner, _, name = qualified.rpartition(".")
    if CATALOGUE.type_named(owner) is not None:
        head = f"import {owner.split('.')[0]}\n\nasync def f(x: {owner}):\n"
        call = f"x.{name}('*')"
    else:
        head = f"import {owner.split('.')[0]}\n\nasync def f(x):\n"
        call = f"{qualified}(x)"
    made = head + f"    it = {call}\n    return await asyncio.to_thread(list, it)\n"
    iterated = head + f"    for item in {call}:\n        print(item)\n"
    listed = head + f"    items = {call}\n    return sorted(items)\n"
    lazy = CATALOGUE.is_lazy(qualified, _VERSION)
    assert [f.line for f in analyze("import asyncio\n" + made)] == ([] if lazy else [5])
    assert [f.line for f in analyze(iterated)] == [4]
    assert [f.line for f in analyze(listed)] == [4]


@pytest.mark.parametrize("qualified", REQUIRED_FUNCTIONS)
def test_catalogue_covers_the_peers_ground(qualified: str) -> None:
    assert CATALOGUE.function_family(qualified) is not None


@pytest.mark.parametrize(("type_name", "method"), REQUIRED_METHODS)
def test_catalogue_covers_the_peers_receivers(type_name: str, method: str) -> None:
    assert CATALOGUE.method_family(type_name, method) is not None


def test_exempt_methods_do_no_io() -> None:
    code = """
    async def f(path):
        with open(path) as handle:
            return handle.fileno(), handle.readable(), handle.tell()
    """
    assert [f.code for f in analyze(code)] == ["BLK100"]  # only the open() itself


@pytest.mark.parametrize(
    ("libraries", "sleep", "offload"),
    [
        (set(), "asyncio.sleep", "asyncio.to_thread"),
        ({"asyncio"}, "asyncio.sleep", "asyncio.to_thread"),
        ({"asyncio", "anyio"}, "anyio.sleep", "anyio.to_thread.run_sync"),
        ({"trio"}, "trio.sleep", "trio.to_thread.run_sync"),
    ],
)
def test_alternatives_are_structured_by_the_library_a_module_uses(
    libraries: set[str], sleep: str, offload: str
) -> None:
    family = CATALOGUE.families["sleep"]
    replacement = family.replacement(frozenset(libraries))
    bridge = CATALOGUE.offload(frozenset(libraries))
    assert replacement is not None
    assert bridge is not None
    assert (replacement.callable, replacement.call.value) == (sleep, "await")
    assert (bridge.callable, bridge.call.value) == (offload, "offload")
    assert bridge.keywords is (offload == "asyncio.to_thread")
    assert CATALOGUE.families["http"].replacement(frozenset(libraries)) is None


def test_every_message_names_an_alternative() -> None:
    for family in CATALOGUE.families.values():
        assert family.alternative.strip()
        assert family.reason.strip()
    (finding,) = analyze("import time\nasync def f():\n    time.sleep(1)\n")
    assert "`await asyncio.sleep(...)`" in finding.message
    assert "time.sleep()" in finding.message


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"families": {"x": {"reason": "r", "alternative": "a", "bogus": 1}}},
            "families.x: unknown key(s) bogus",
        ),
        (
            {"types": {"a.B": {"family": "missing", "methods": ["m"]}}},
            'types."a.B": unknown family',
        ),
        ({"types": {"a.B": {"methods": ["m"]}}}, "blocking methods need a family"),
        (
            {"families": {"x": {"reason": "r", "alternative": "a", "functions": "time.sleep"}}},
            "expected a list of strings",
        ),
        (
            {
                "families": {
                    "x": {"reason": "r", "alternative": "a", "functions": ["t.s"]},
                    "y": {"reason": "r", "alternative": "a", "functions": ["t.s"]},
                }
            },
            "t.s is already in x",
        ),
        ({"surprise": {}}, "catalogue: unknown key(s) surprise"),
        (
            {"offloads": [{"library": "anyio", "callable": "asyncio.to_thread"}]},
            "offloads[0]: asyncio.to_thread is not reached from anyio",
        ),
        ({"offloads": [{"library": "asyncio"}]}, "offloads[0]: needs `library` and `callable`"),
        (
            {"offloads": [{"library": "a", "callable": "a.f", "keywords": "no"}]},
            "offloads[0].keywords: expected true or false",
        ),
        (
            {
                "families": {
                    "x": {"reason": "r", "alternative": "a", "replacements": {"library": "a"}}
                }
            },
            "families.x.replacements: expected a list of tables",
        ),
    ],
)
def test_malformed_catalogue_is_rejected_with_the_entry_named(data: dict, error: str) -> None:
    with pytest.raises(CatalogueError, match=re.escape(error)):
        parse_catalogue(data)
