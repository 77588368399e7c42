"""File discovery: include patterns, `exclude`, nested .gitignore files and explicit paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.engine.config import DEFAULT_EXCLUDE
from audit.engine.discovery import DiscoveryError, FileFinder


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = [
        "app/main.py",
        "app/types.pyi",
        "app/readme.txt",
        "app/generated/schema.py",
        "app/models.gen.py",
        "app/keep.gen.py",
        "app/sub/local.py",
        "app/sub/shared.py",
        "app/secret.py",
        "migrations/0001.py",
        ".venv/lib/site.py",
        "build/lib/copy.py",
        "node_modules/x/y.py",
    ]
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("secret.py\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("generated/\n*.gen.py\n!keep.gen.py\n", encoding="utf-8")
    (tmp_path / "app" / "sub" / ".gitignore").write_text("local.py\n", encoding="utf-8")
    return tmp_path


def _finder(root: Path, *, exclude=DEFAULT_EXCLUDE, gitignore=True) -> FileFinder:
    return FileFinder(root, exclude=exclude, include=("*.py", "*.pyi"), respect_gitignore=gitignore)


def _names(root: Path, paths: list[Path]) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_walk_honours_gitignore_exclude_and_include(tree: Path) -> None:
    found = _finder(tree).find([tree])
    assert _names(tree, found) == [
        "app/keep.gen.py",
        "app/main.py",
        "app/sub/shared.py",
        "app/types.pyi",
        "migrations/0001.py",
    ]


def test_extra_exclude_patterns(tree: Path) -> None:
    found = _finder(tree, exclude=(*DEFAULT_EXCLUDE, "migrations/", "*.pyi")).find([tree])
    assert _names(tree, found) == ["app/keep.gen.py", "app/main.py", "app/sub/shared.py"]


def test_gitignore_can_be_turned_off(tree: Path) -> None:
    found = _names(tree, _finder(tree, gitignore=False).find([tree]))
    assert "app/generated/schema.py" in found
    assert "app/secret.py" in found
    assert ".venv/lib/site.py" not in found


def test_gitignore_needs_a_git_repository(tree: Path) -> None:
    (tree / ".git" / "info" / "exclude").unlink()
    (tree / ".git" / "info").rmdir()
    (tree / ".git").rmdir()
    assert "app/generated/schema.py" in _names(tree, _finder(tree).find([tree]))


def test_explicit_files_are_checked_unless_force_exclude(tree: Path) -> None:
    explicit = [
        tree / "app/generated/schema.py",
        tree / ".venv/lib/site.py",
        tree / "app/readme.txt",
    ]
    assert len(_finder(tree).find(explicit)) == 3
    assert _finder(tree).find(explicit, force_exclude=True) == [tree / "app/readme.txt"]


def test_walking_a_subdirectory_still_applies_root_rules(tree: Path) -> None:
    found = _finder(tree).find([tree / "app" / "sub"])
    assert _names(tree, found) == ["app/sub/shared.py"]


def test_missing_path_is_an_error(tree: Path) -> None:
    with pytest.raises(DiscoveryError, match=r"nope\.py: no such file or directory"):
        _finder(tree).find([tree / "nope.py"])


def test_symlinked_directories_are_not_followed(tree: Path) -> None:
    (tree / "loop").symlink_to(tree / "app", target_is_directory=True)
    assert not any("loop" in name for name in _names(tree, _finder(tree).find([tree])))
