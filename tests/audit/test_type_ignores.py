"""The type-ignore inventory, the budget ratchet, and TIG102 with real mypy."""

from __future__ import annotations

import io
import json
import tokenize
from pathlib import Path

import pytest

from audit.analysis.comments import scan_comments
from audit.analysis.ignores import IgnoreKind, find_ignores
from audit.engine.config import Config
from audit.engine.workspace import Workspace
from audit.rules.base import example_code, expected_lines
from audit.rules.tig102_unused_ignore import UnusedTypeIgnore
from tests.conftest import Project

SITE_PACKAGES = Path(pytest.__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("line", "kind", "codes"),
    [
        ("x = 1  # type: ignore", IgnoreKind.BLANKET, ()),
        ("x = 1  #type:ignore", IgnoreKind.BLANKET, ()),
        ("x = 1  # type: ignore[misc]", IgnoreKind.CODED, ("misc",)),
        ("x = 1  # type: ignore[misc, attr-defined]", IgnoreKind.CODED, ("misc", "attr-defined")),
        ("x = 1  # noqa: E501  # type: ignore[misc]", IgnoreKind.CODED, ("misc",)),
        ("x = 1  # pyright: ignore", IgnoreKind.OTHER_CHECKER, ()),
        (
            "x = 1  # pyright: ignore[reportGeneralTypeIssues]",
            IgnoreKind.OTHER_CHECKER,
            ("reportGeneralTypeIssues",),
        ),
        (
            "x = 1  # ty: ignore[invalid-assignment]",
            IgnoreKind.OTHER_CHECKER,
            ("invalid-assignment",),
        ),
    ],
)
def test_ignore_comments_are_recognised(
    line: str, kind: IgnoreKind, codes: tuple[str, ...]
) -> None:
    (ignore,) = find_ignores("import os\n" + line + "\n")
    assert (ignore.kind, ignore.codes, ignore.line) == (kind, codes, 2)


@pytest.mark.parametrize(
    "source",
    [
        "x = []  # type: list[int]\n",
        'x = "# type: ignore"\n',
        'def f():\n    """# type: ignore\n    # type: ignore\n    """\n',
        "x = '''\n# type: ignore\n'''\n",
        "x = 1  # type: ignored-by-humans\n",
        'x = "it\'s # type: ignore"  # a comment\n',
        "x = f'{1}'  # typed: ignore\n",
        "x = 1  # write `# type: ignore[misc]` to silence it\n",
    ],
)
def test_things_that_look_like_ignores_but_are_not(source: str) -> None:
    assert find_ignores(source) == []


def test_misplaced_ignore_is_marked() -> None:
    (ignore,) = find_ignores("x = 1  # noqa: E501  # type: ignore[misc]\n")
    assert ignore.misplaced
    (first,) = find_ignores("x = 1  # type: ignore[misc]  # noqa: E501\n")
    assert not first.misplaced


def _site_package_files(limit: int = 400) -> list[Path]:
    return sorted(SITE_PACKAGES.rglob("*.py"))[:limit]


def test_comment_scanner_agrees_with_tokenize_on_real_code() -> None:
    checked = 0
    for path in _site_package_files():
        try:
            text = path.read_text(encoding="utf-8")
            expected = [
                (t.start[0], t.start[1] + 1, t.string)
                for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type == tokenize.COMMENT
            ]
        except (UnicodeDecodeError, SyntaxError, tokenize.TokenError):
            continue
        assert [(c.line, c.column, c.text) for c in scan_comments(text)] == expected, path
        checked += 1
    assert checked > 200


def test_inventory_counts_per_module(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "typed.py").write_text(
        "from typing import Any, cast\n"
        "import typing\n"
        "a: int = 'x'  # type: ignore\n"
        "b: int = 'x'  # type: ignore[assignment]\n"
        "c: int = 'x'  # type: ignore[assignment, misc]\n"
        "d: int = 'x'  # pyright: ignore\n"
        "def f(x: Any, y: 'typing.Any') -> dict[str, Any]:\n"
        "    return cast(dict, x)\n"
        "@typing.no_type_check\n"
        "def g(): pass\n"
    )
    config = Config(root=tmp_path)
    result = Workspace(config, jobs=1).check([tmp_path], selection=config.selection(), cwd=tmp_path)
    inventory = result.inventory["pkg.typed"]
    assert inventory.to_json() == {
        "blanket": 1,
        "coded": 2,
        "codes": {"assignment": 2, "misc": 1},
        "other_checkers": 1,
        "file_level": 1,
        "casts": 1,
        "any": 3,
    }
    assert inventory.ignores == 5
    assert result.inventory["pkg"].ignores == 0


def test_budget_ratchet(project: Project) -> None:
    project.write("app.py", "a: int = 'x'  # type: ignore[assignment]\n")
    written = project.run("check", "--ignore", "TIG", "--budget", "budget.json", "--write-budget")
    assert written.returncode == 0, written.stderr
    assert json.loads((project.root / "budget.json").read_text()) == {
        "version": 1,
        "modules": {"app": 1},
    }
    assert project.run("check", "--ignore", "TIG", "--budget", "budget.json").returncode == 0

    project.write(
        "app.py", "a: int = 'x'  # type: ignore[assignment]\nb: int = 'y'  # type: ignore\n"
    )
    over = project.run("check", "--ignore", "TIG", "--budget", "budget.json")
    assert over.returncode == 1
    assert "budget exceeded: app has 2 type-checking escapes (budget 1, budget.json)" in over.stderr

    project.write("app.py", "a: int = 1\n")
    lower = project.run("check", "--ignore", "TIG", "--budget", "budget.json")
    assert lower.returncode == 0
    assert "budget can be lowered: app has 0 (budget 1)" in lower.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--budget", "missing.json"], "missing.json: no such budget file"),
        (["--write-budget"], "--write-budget needs --budget FILE"),
    ],
)
def test_budget_errors(project: Project, args: list[str], error: str) -> None:
    project.write("app.py", "x = 1\n")
    result = project.run("check", *args)
    assert result.returncode == 2
    assert error in result.stderr


def test_malformed_budget_is_rejected(project: Project) -> None:
    project.write("app.py", "x = 1\n")
    project.write("budget.json", '{"modules": {"app": -1}}')
    result = project.run("check", "--budget", "budget.json")
    assert result.returncode == 2
    assert "budget.json: expected" in result.stderr


def test_unused_ignores_with_real_mypy(project: Project) -> None:
    project.write(
        "app.py",
        "x: int = 1  # type: ignore\n"
        "y: int = 'a'  # type: ignore[attr-defined]\n"
        "z: int = 'b'  # type: ignore[assignment]\n"
        "w: int = 'c'  # noqa: E501  # type: ignore[assignment]\n",
    )
    result = project.run("check", "--mypy", "--select", "TIG102", "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["line"], f["column"]) for f in findings] == [(1, 13), (2, 15), (4, 29)]
    assert findings[0]["message"] == "unused `# type: ignore`: mypy reports no error on this line"
    assert (
        "does not cover the error mypy reports here: [assignment] Incompatible types"
        in findings[1]["message"]
    )
    assert "is not read by mypy (a type comment must start its comment)" in findings[2]["message"]
    silent = project.run("check", "--select", "TIG102")
    assert silent.returncode == 0  # without --mypy the rule is silent, not guessed


def test_mypy_uses_the_project_configuration(project: Project) -> None:
    project.write("app.py", "def f(x):  # type: ignore[no-untyped-def]\n    return x\n")
    strict = project.run("check", "--mypy", "--select", "TIG102")
    assert strict.returncode == 0, strict.stdout  # needed under --strict, the default
    project.write("pyproject.toml", "[tool.mypy]\nwarn_unused_ignores = true\n")
    relaxed = project.run("check", "--mypy", "--select", "TIG102")
    assert relaxed.returncode == 1
    assert "unused `# type: ignore[no-untyped-def]`" in relaxed.stdout


def test_tig102_examples_with_real_mypy(project: Project) -> None:
    for kind, examples in (
        ("invalid", UnusedTypeIgnore.INVALID),
        ("valid", UnusedTypeIgnore.VALID),
    ):
        for example in examples:
            project.write("example.py", example_code(example))
            result = project.run(
                "check", "--mypy", "--select", "TIG102", "--no-cache", "--format", "json"
            )
            lines = [f["line"] for f in json.loads(result.stdout)["findings"]]
            assert lines == (expected_lines(example) if kind == "invalid" else []), example
