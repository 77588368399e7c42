"""The project's own promises: README commands, CI script, pre-commit hooks, entry points."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _readme_commands() -> list[str]:
    block = re.search(r"\A# .+?\n\n```sh\n(.*?)\n```", (REPO / "README.md").read_text(), re.S)
    assert block is not None, "README must open with a ```sh block"
    return block.group(1).splitlines()


def test_readme_opens_with_exactly_two_commands() -> None:
    setup_and_audit, setup_and_test = _readme_commands()
    assert "pip install -e '.[dev]'" in setup_and_audit
    assert "soni-audit report" in setup_and_audit
    assert setup_and_audit.endswith("--out reports")
    assert setup_and_test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_and_the_gates() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assignment = next(line for line in script.splitlines() if line.startswith("test_command="))
    extracted = subprocess.run(
        ["bash", "-c", f'{assignment}; printf %s "$test_command"'],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert extracted == _readme_commands()[1]
    for gate in (
        "ruff check",
        "mypy --strict soni audit",
        "mypy --strict scripts",
        "soni-audit check soni audit scripts",
        "soni-audit report soni audit scripts --out reports",
        "git diff --exit-code -- reports/",
        "COVERAGE_PROCESS_START=",
        "scripts/coverage_floor.py coverage.json --floor 90",
        "pytest -m slow -p no:cacheprovider tests/test_precommit_hook.py",
        "scripts/check_wheel.sh",
    ):
        assert gate in script


def _pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_pre_commit_hook_manifest_is_valid() -> None:
    result = _pre_commit("validate-manifest", ".pre-commit-hooks.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_config_is_valid() -> None:
    result = _pre_commit("validate-config", ".pre-commit-config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_console_scripts_and_module_entry_point() -> None:
    scripts = Path(sys.executable).parent
    for command in (
        [str(scripts / "soni-audit")],
        [str(scripts / "soni")],
        [sys.executable, "-m", "audit"],
    ):
        result = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert re.fullmatch(r"soni(-audit)? \S+\n", result.stdout)  # the version: test_version
