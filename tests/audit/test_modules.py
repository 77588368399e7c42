"""Module names: package chains, src layouts, namespace directories, scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.core.modules import module_name


@pytest.mark.parametrize(
    ("files", "target", "expected"),
    [
        (
            ["pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/mod.py"],
            "pkg/sub/mod.py",
            ("pkg.sub.mod", False),
        ),
        (["pkg/__init__.py", "pkg/sub/__init__.py"], "pkg/sub/__init__.py", ("pkg.sub", True)),
        (["src/pkg/__init__.py", "src/pkg/mod.py"], "src/pkg/mod.py", ("pkg.mod", False)),
        (["store/base.py"], "store/base.py", ("store.base", False)),
        (["src/tools/run.py"], "src/tools/run.py", ("tools.run", False)),
        (["scripts/bench.py"], "scripts/bench.py", ("scripts.bench", False)),
        (["setup.py"], "setup.py", ("setup", False)),
        (["my-scripts/tool.py"], "my-scripts/tool.py", ("tool", False)),
    ],
)
def test_module_names(
    tmp_path: Path, files: list[str], target: str, expected: tuple[str, bool]
) -> None:
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    roots = (tmp_path, tmp_path / "src")
    assert module_name(tmp_path / target, roots) == expected
