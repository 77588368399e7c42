"""The import structure ARCHITECTURE.md describes: soni-audit's layers, no import circles in
`audit` or `soni`, and neither package importing the other or `scripts`.

Imports are read with `ast` (module level, inside functions and under `TYPE_CHECKING`
alike: each one is a dependency of the code that writes it).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_LAYER_ROW = re.compile(r"^\| (?P<number>\d+) (?P<name>\w+) \| (?P<units>[^|]+) \|")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported (or whose name is imported)
    line: int


def modules(package: str, root: Path = REPO) -> dict[str, Path]:
    found = {}
    for path in (root / package).rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(package: str, root: Path = REPO) -> list[Import]:
    """Every import of a module of `package` by a module of `package`."""
    known = modules(package, root)
    found = []
    for source, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.append(full if full in known else node.module)
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            found += [
                Import(source, target, node.lineno)
                for target in targets
                if target in known and target != source
            ]
    return found


def circles(edges: list[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def layers(architecture: str) -> dict[str, int]:
    """`unit -> layer number` from the layer table of ARCHITECTURE.md."""
    table = {}
    for line in architecture.splitlines():
        match = _LAYER_ROW.match(line)
        if match is not None:
            for unit in re.findall(r"`([\w.]+)`", match["units"]):
                table[unit] = int(match["number"])
    return table


def layer_of(module: str, table: dict[str, int]) -> int | None:
    """The layer of the longest listed unit that is the module or contains it."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        unit = ".".join(parts[:end])
        if unit in table:
            return table[unit]
    return None


def upward(edges: list[Import], table: dict[str, int]) -> list[str]:
    found = []
    for edge in edges:
        source, target = layer_of(edge.source, table), layer_of(edge.target, table)
        if source is not None and target is not None and target > source:
            found.append(f"{edge.source}:{edge.line} imports {edge.target} (layer {target})")
    return found


# -- the checks themselves, on tables of small trees -----------------------------------------

ARCHITECTURE = """
| layer | packages and modules | what |
|---|---|---|
| 1 values | `pkg`, `pkg.core` | values |
| 2 analysis | `pkg.analysis` | facts |
| 3 commands | `pkg.cli` | commands |
"""


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"pkg/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # downward imports, at any depth, also inside functions: fine
        (
            {
                "pkg/core.py": "",
                "pkg/analysis/__init__.py": "",
                "pkg/analysis/walk.py": "from pkg.core import x",
                "pkg/cli.py": "def main():\n    from pkg.analysis.walk import y\n",
            },
            [],
        ),
        # an import under TYPE_CHECKING still runs up
        (
            {
                "pkg/core.py": "if TYPE_CHECKING:\n    from pkg.cli import main\n",
                "pkg/cli.py": "",
            },
            ["pkg.core:2 imports pkg.cli (layer 3)"],
        ),
        # `import a.b` and `from a import b` (b a module) name the module itself
        (
            {
                "pkg/analysis/__init__.py": "",
                "pkg/analysis/walk.py": "import pkg.cli\nfrom pkg import cli\n",
                "pkg/cli.py": "",
            },
            ["pkg.analysis.walk:1 imports pkg.cli (layer 3)", "pkg.analysis.walk:2 imports pkg.cli (layer 3)"],
        ),
    ],
)
def test_upward_imports_are_found(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    root = _tree(tmp_path, files)
    assert upward(imports("pkg", root), layers(ARCHITECTURE)) == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pkg/a.py": "from pkg import b", "pkg/b.py": "import os"}, []),
        ({"pkg/a.py": "from pkg import b", "pkg/b.py": "from pkg.a import x"}, [["pkg.a", "pkg.b"]]),
        (
            {
                "pkg/a.py": "from pkg.b import x",
                "pkg/b.py": "def f():\n    from pkg.c import y\n",
                "pkg/c.py": "if TYPE_CHECKING:\n    import pkg.a\n",
            },
            [["pkg.a", "pkg.b", "pkg.c"]],
        ),
    ],
)
def test_circles_are_found(tmp_path: Path, files: dict[str, str], expected: list[list[str]]) -> None:
    assert circles(imports("pkg", _tree(tmp_path, files))) == expected


# -- this repository ---------------------------------------------------------------------------


def test_every_audit_module_has_a_layer() -> None:
    table = layers((REPO / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    assert table, "ARCHITECTURE.md has no layer table"
    unplaced = [name for name in modules("audit") if layer_of(name, table) is None]
    assert unplaced == [], "add these to the layer table of ARCHITECTURE.md"


def test_no_audit_import_runs_up_a_layer() -> None:
    table = layers((REPO / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    assert upward(imports("audit"), table) == []


@pytest.mark.parametrize("package", ["audit", "soni"])
def test_no_import_circles(package: str) -> None:
    assert circles(imports(package)) == []


@pytest.mark.parametrize(
    ("package", "allowed"),
    [
        ("audit", ()),  # the audit suite knows nothing of what it audits
        ("soni", ("audit.profiling",)),  # soni serve watches its loop with audit's watchdog
    ],
)
def test_packages_stay_apart(package: str, allowed: tuple[str, ...]) -> None:
    others = {"audit", "soni", "scripts", "harness"} - {package}
    crossing = []
    for source, path in modules(package).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            crossing += [
                f"{source} imports {name}"
                for name in names
                if name.split(".")[0] in others
                and not any(name == a or name.startswith(a + ".") for a in allowed)
            ]
    assert crossing == []
