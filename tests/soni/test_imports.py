"""What imports what: `soni.core` sits below `soni.config`, and `soni serve` loads the audit
package only for the loop watchdog."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import soni

CORE = Path(soni.__file__).parent / "core"


def imported_modules(source: str, module: str, *, package: bool = False) -> set[str]:
    """Every module `source` (the text of `module`) imports, relative imports resolved,
    `from pkg import name` counted as `pkg.name` too (it may be a submodule). Imports inside
    functions and `if TYPE_CHECKING:` blocks count."""
    here = module.split(".") if package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_config(name: str) -> bool:
    return name == "soni.config" or name.startswith("soni.config.")


@pytest.mark.parametrize(
    "line",
    [
        "from soni.config.models import SlotValue",
        "import soni.config.loader as loader",
        "from soni import config",
        "from ..config import models",
        "from ..config.models import Domain",
        "def f():\n    from soni.config import load_config",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import soni.config",
    ],
)
def test_the_check_sees_every_way_to_import_config(line: str) -> None:
    assert any(is_config(name) for name in imported_modules(line, "soni.core.state"))


def test_the_check_leaves_other_imports_alone() -> None:
    source = "from soni import errors\nfrom . import slots\nfrom .conditions import parse_condition"
    assert imported_modules(source, "soni.core.state") == {
        "soni",
        "soni.errors",
        "soni.core",
        "soni.core.slots",
        "soni.core.conditions",
        "soni.core.conditions.parse_condition",
    }
    assert imported_modules("from . import slots", "soni.core", package=True) == {
        "soni.core",
        "soni.core.slots",
    }


def test_core_never_imports_config() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 5, "soni/core was not found"
    offenders = {
        module_name(path): sorted(
            name
            for name in imported_modules(
                path.read_text(encoding="utf-8"),
                module_name(path),
                package=path.name == "__init__.py",
            )
            if is_config(name)
        )
        for path in modules
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_serve_imports_audit_only_for_the_watchdog() -> None:
    probe = "import soni.server.serve, sys; print(any(m.startswith('audit') for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "False", result.stderr
