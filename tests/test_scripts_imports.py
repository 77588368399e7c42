"""The benchmarks in `scripts/` are a small library with public names: no import closes a
circle, no module takes another's private names, and nothing edits `sys.path`.

`scripts/` is an import root, as `python scripts/NAME.py` makes it (`loadtest`,
`harness.servers`); pytest's `pythonpath`, mypy and ruff see it the same way. The checks read
the code with `ast`, every import wherever it stands (in a function, under
`TYPE_CHECKING`): an import that runs later still ties two modules together.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = REPO / "scripts"
PATH_EDITS = frozenset({"insert", "append", "extend", "remove", "pop", "clear", "__setitem__"})


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        """The package a relative import starts from."""
        is_package = self.path.name == "__init__.py"
        return self.name if is_package else self.name.rpartition(".")[0]


def modules(root: Path) -> dict[str, Module]:
    """Every module below the import root `root`, by the name it is imported under."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Edge:
    importer: Module
    line: int
    target: str
    """A module of the root."""
    names: tuple[str, ...] = ()
    """Names taken from it that are not modules themselves."""


def _source(module: Module, node: ast.ImportFrom) -> str:
    """The module a `from ... import` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module.package.split(".") if module.package else []
    anchor = package[: len(package) - (node.level - 1)]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def edges(module: Module, local: dict[str, Module]) -> Iterator[Edge]:
    """The imports of `module` that reach modules of the same root."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in local:
                    yield Edge(module, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = _source(module, node)
            names = []
            for alias in node.names:
                if f"{source}.{alias.name}" in local:
                    yield Edge(module, node.lineno, f"{source}.{alias.name}")
                else:
                    names.append(alias.name)
            if source in local and names:
                yield Edge(module, node.lineno, source, tuple(names))


def _bound_modules(module: Module, local: dict[str, Module]) -> dict[str, str]:
    """Names in `module` bound to a module of the root: `import a.b as c`, `from a import b`."""
    bound = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            source = _source(module, node)
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{source}.{alias.name}"
    return {name: target for name, target in bound.items() if target in local}


def private_uses(local: dict[str, Module]) -> list[str]:
    """Private names one module takes from another: imported, or read through an imported
    module (`loadtest._phase`)."""
    problems = []
    for module in local.values():
        for edge in edges(module, local):
            taken = [*edge.names, *edge.target.split(".")]
            for name in filter(_private, taken):
                problems.append(f"{module.name}:{edge.line} imports {name} from {edge.target}")
        bound = _bound_modules(module, local)
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Attribute) or not _private(node.attr):
                continue
            chain, value = [], node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in bound:
                target = ".".join([bound[value.id], *reversed(chain)])
                if target in local:
                    problems.append(f"{module.name}:{node.lineno} uses {node.attr} of {target}")
    return problems


def circles(local: dict[str, Module]) -> list[list[str]]:
    """The import cycles: strongly connected groups of modules (Tarjan). Importing `a.b`
    runs `a/__init__.py` first, so it counts as an import of `a` too."""
    graph: dict[str, set[str]] = {name: set() for name in local}
    for module in local.values():
        for edge in edges(module, local):
            parts = edge.target.split(".")
            parents = {".".join(parts[:depth]) for depth in range(1, len(parts))}
            graph[module.name].add(edge.target)
            graph[module.name] |= {
                parent
                for parent in parents
                if parent in local
                and module.name != parent
                and not module.name.startswith(f"{parent}.")
            }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in sorted(graph[name]):
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == name:
                    break
            if len(group) > 1 or name in graph[name]:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def path_edits(files: list[Path]) -> list[str]:
    """Every change to `sys.path` in `files`: a call of a mutating method, an assignment."""
    problems = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            target: ast.expr | None = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in PATH_EDITS:
                    target = node.func.value
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
                targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
                for each in targets:
                    target = each.value if isinstance(each, ast.Subscript) else each
                    if _is_sys_path(target):
                        break
            if target is not None and _is_sys_path(target):
                problems.append(f"{path}:{node.lineno} edits sys.path")
    return problems


def _is_sys_path(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


# -- this repository ---------------------------------------------------------------------------


def test_no_import_in_scripts_closes_a_circle() -> None:
    local = modules(SCRIPTS)
    assert {"loadtest", "loadtest_replicas", "harness", "harness.servers"} <= set(local)
    assert circles(local) == []


def test_no_script_takes_another_modules_private_names() -> None:
    assert private_uses(modules(SCRIPTS)) == []


def test_nothing_edits_sys_path_in_scripts_or_tests() -> None:
    files = [
        path
        for root in (SCRIPTS, REPO / "tests")
        for path in sorted(root.rglob("*.py"))
        if (REPO / "tests" / "fixtures") not in path.parents
    ]
    assert len(files) > 50
    assert path_edits(files) == []


# -- the checks themselves ---------------------------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Module]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return modules(tmp_path)


CLEAN = {
    "kit/__init__.py": "ROOT = 1\n",
    "kit/servers.py": "from kit import ROOT\nfrom kit.util import helper\n",
    "kit/util.py": "import os\n\ndef helper(): ...\ndef _inner(): ...\nx = _inner\n",
    "kit/clients.py": "from . import servers\nfrom .util import helper\nservers.ROOT\n",
    "bench.py": "import kit.servers\nimport replicas\nfrom kit import clients\n",
    "replicas.py": "from kit.clients import helper\nfrom kit.util import __doc__\n",
}


def test_a_clean_tree_has_no_circle_and_no_private_use(tmp_path: Path) -> None:
    local = _tree(tmp_path, CLEAN)
    assert circles(local) == []
    assert private_uses(local) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"a.py": "from b import x\n", "b.py": "import a\nx = 1\n"},
            [["a", "b"]],
        ),
        (  # an import inside a function still ties the two modules together
            {"a.py": "def f():\n    import b\n", "b.py": "from a import f\n"},
            [["a", "b"]],
        ),
        (  # a package whose __init__ imports a module that imports the package
            {"p/__init__.py": "from p.m import y\n", "p/m.py": "from p import z\n"},
            [["p", "p.m"]],
        ),
        (  # relative imports resolve like absolute ones
            {"p/__init__.py": "", "p/a.py": "from .b import x\n", "p/b.py": "from . import a\n"},
            [["p.a", "p.b"]],
        ),
        ({"a.py": "import a\n"}, [["a"]]),
    ],
)
def test_circles_are_found(tmp_path: Path, files: dict[str, str], expected: list[list[str]]) -> None:
    assert circles(_tree(tmp_path, files)) == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"a.py": "_x = 1\n", "b.py": "from a import _x, y\n"},
            ["b:1 imports _x from a"],
        ),
        (
            {"a.py": "_x = 1\n", "b.py": "import a\na._x\n"},
            ["b:2 uses _x of a"],
        ),
        (
            {"p/__init__.py": "", "p/m.py": "", "b.py": "import p.m as q\nq._y()\n"},
            ["b:2 uses _y of p.m"],
        ),
        (
            {"p/__init__.py": "", "p/_hidden.py": "", "b.py": "from p import _hidden\n"},
            ["b:1 imports _hidden from p._hidden"],
        ),
        (
            {"p/__init__.py": "", "p/m.py": "", "p/n.py": "from .m import _z\n"},
            ["p.n:1 imports _z from p.m"],
        ),
    ],
)
def test_private_names_taken_across_modules_are_found(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    assert private_uses(_tree(tmp_path, files)) == expected


@pytest.mark.parametrize(
    ("code", "edits"),
    [
        ("import sys\nsys.path.insert(0, 'x')\n", 1),
        ("import sys\nsys.path.append('x')\nsys.path.remove('x')\n", 2),
        ("import sys\nsys.path = ['x']\n", 1),
        ("import sys\nsys.path[0] = 'x'\n", 1),
        ("import sys\nsys.path += ['x']\n", 1),
        ("import sys\nprint(sys.path)\nroots = list(sys.path)\n", 0),
        ("CODE = 'import sys; sys.path.insert(0, x)'\n", 0),  # text for a child interpreter
        ("import os\nos.path.join('a', 'b')\nitems = []\nitems.append(1)\n", 0),
    ],
)
def test_sys_path_edits_are_found(tmp_path: Path, code: str, edits: int) -> None:
    path = tmp_path / "module.py"
    path.write_text(code, encoding="utf-8")
    assert len(path_edits([path])) == edits
