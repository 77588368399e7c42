"""One version, read from one place (`[project] version` in pyproject.toml): the package
metadata, both commands' `--version`, the summary cache's directory and the SARIF driver."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import audit
import soni
from tests.conftest import REPO, Project

PYPROJECT_VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"
]


def test_the_installed_metadata_and_both_packages_carry_pyprojects_version() -> None:
    # A stale editable install (pyproject bumped, not reinstalled) fails here.
    assert version("soni") == PYPROJECT_VERSION
    assert audit.__version__ == PYPROJECT_VERSION
    assert soni.__version__ == PYPROJECT_VERSION


def test_both_commands_print_it() -> None:
    scripts = Path(sys.executable).parent
    for name in ("soni-audit", "soni"):
        shown = subprocess.run(
            [str(scripts / name), "--version"], capture_output=True, text=True, check=True
        )
        assert shown.stdout == f"{name} {PYPROJECT_VERSION}\n"


def test_the_summary_cache_and_the_sarif_driver_are_keyed_by_it(project: Project) -> None:
    project.write("app.py", "import time\n\nasync def main():\n    time.sleep(1)\n")
    sarif = project.run("check", "--format", "sarif", "app.py")
    assert sarif.returncode == 1, sarif.stderr
    driver = json.loads(sarif.stdout)["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("soni-audit", PYPROJECT_VERSION)
    cache = project.root / ".soni-audit-cache"
    assert [path.name for path in cache.iterdir() if path.is_dir()] == [PYPROJECT_VERSION]
