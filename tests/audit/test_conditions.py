"""Conditions known before the code runs, and the branches that therefore never run."""

from __future__ import annotations

import libcst as cst
import pytest

from audit.analysis.constants import ConditionReader, Truth
from audit.core.settings import AnalysisSettings
from tests.conftest import analyze

LINUX_311 = ConditionReader((3, 11), "linux")
T, F, TC, U = Truth.TRUE, Truth.FALSE, Truth.TYPE_CHECKING, Truth.UNKNOWN


@pytest.mark.parametrize(
    ("test", "truth"),
    [
        ("True", T),
        ("False", F),
        ("0", F),
        ("1", T),
        ("not False", T),
        ("TYPE_CHECKING", TC),
        ("typing.TYPE_CHECKING", TC),
        ("sys.version_info >= (3, 11)", T),
        ("sys.version_info >= (3, 12)", F),
        ("sys.version_info < (3, 13)", T),
        ("sys.version_info < (3,)", F),
        ("sys.version_info > (3, 10)", T),
        ("sys.version_info >= (3, 10, 4)", T),  # decided by (3, 11) > (3, 10)
        ("sys.version_info >= (3, 11, 4)", U),  # the micro version is not known
        ("sys.version_info == (3, 11)", U),  # never equal: nobody means that
        ("sys.version_info[:2] == (3, 11)", T),
        ("sys.version_info[0] == 3", T),
        ("sys.version_info[1] < 9", F),
        ("sys.version_info.minor >= 12", F),
        ("(3, 8) <= sys.version_info < (3, 12)", T),
        ("(3, 11) < sys.version_info", T),
        ("sys.platform == 'win32'", F),
        ("sys.platform != 'darwin'", T),
        ("sys.platform.startswith('linux')", T),
        ("sys.platform.startswith(('win', 'cygwin'))", F),
        ("os.name == 'nt'", F),
        ("sys.version_info >= (3,) and sys.platform == 'linux'", T),
        ("sys.platform == 'win32' or sys.version_info < (3, 9)", F),
        ("debug or sys.version_info >= (3, 8)", T),
        ("debug and sys.version_info < (3, 8)", F),
        ("debug", U),
        ("sys.version_info >= minimum", U),
        ("platform == 'win32'", U),
    ],
)
def test_conditions_on_python_311_linux(test: str, truth: Truth) -> None:
    assert LINUX_311.truth(cst.parse_expression(test)) is truth


@pytest.mark.parametrize(
    ("module", "flags"),
    [
        ("_IS_SYNC = False\n", {"_IS_SYNC": False}),
        ("DEBUG: bool = True\n", {"DEBUG": True}),
        ("A = True\nA = False\n", {}),  # assigned twice: not a constant
        ("try:\n    import x\n    HAS = True\nexcept ImportError:\n    HAS = False\n", {}),
        ("FLAG = False\ndef f():\n    global FLAG\n    FLAG = True\n", {}),
        ("FLAG = False\nFLAG += 1\n", {}),
        ("from x import FLAG\nFLAG = False\n", {}),
        ("class C:\n    FLAG = True\n", {}),  # a class attribute, not a module name
        ("X = 1\n", {}),
    ],
)
def test_module_flags_are_names_bound_once_to_a_boolean(module: str, flags: dict) -> None:
    reader = LINUX_311.with_module_flags(cst.parse_module(module), module)
    assert dict(reader.flags) == flags


DEAD_BRANCHES = """\
import sys, time
from typing import TYPE_CHECKING

_IS_SYNC = False

async def handler():
    if sys.version_info < (3, 8):
        time.sleep(1)
    if sys.platform == "win32":
        time.sleep(1)
    if False:
        time.sleep(1)
    if True:
        pass
    else:
        time.sleep(1)
    while False:
        time.sleep(1)
    if TYPE_CHECKING:
        time.sleep(1)
    if not _IS_SYNC:
        pass
    else:
        time.sleep(1)
    pause = time.sleep if sys.version_info < (3, 8) else None
    value = time.sleep(1) if sys.version_info < (3, 8) else 0
    if sys.version_info >= (3, 8):
        time.sleep(2)  # runs
    else:
        pass
"""


def test_dead_branches_are_not_analysed() -> None:
    findings = analyze(DEAD_BRANCHES, select=("BLK",))
    assert [(f.line, f.code) for f in findings] == [(28, "BLK100")]


def test_the_target_interpreter_decides_which_branch_is_dead() -> None:
    older = AnalysisSettings(target_version=(3, 7), target_platform="win32")
    lines = [f.line for f in analyze(DEAD_BRANCHES, older, select=("BLK",))]
    assert lines == [8, 10, 26]  # and the `>= (3, 8)` branch of line 28 is dead


def test_type_checking_imports_still_name_types() -> None:
    code = """\
    from __future__ import annotations

    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from sqlite3 import Connection

    async def handler(conn: Connection):
        conn.execute("select 1")
    """
    assert [(f.line, f.code) for f in analyze(code, select=("BLK",))] == [(9, "BLK101")]


def test_dead_branches_hide_mutations_too() -> None:
    code = """\
    import sys

    def add(items: list):
        if sys.version_info < (3, 8):
            items.append(1)
        return items
    """
    assert analyze(code, select=("MUT",)) == []


def test_target_version_from_pyproject_reaches_the_checker(project) -> None:
    project.write("pyproject.toml", '[tool.soni-audit]\ntarget-version = "3.7"\n')
    project.write(
        "app.py",
        "import sys, time\n\nasync def f():\n    if sys.version_info < (3, 8):\n"
        "        time.sleep(1)\n",
    )
    assert project.run("check", "--select", "BLK").returncode == 1
    project.write("pyproject.toml", '[tool.soni-audit]\ntarget-version = "3.11"\n')
    result = project.run("check", "--select", "BLK")
    assert result.returncode == 0, result.stdout
