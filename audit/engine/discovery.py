"""Which files to check: walk the given paths, honouring `exclude` and `.gitignore` files.

A file named explicitly on the command line is checked even when excluded (as with ruff),
unless `--force-exclude` is given, which is what a pre-commit hook wants: pre-commit passes
every staged file by name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec


class DiscoveryError(Exception):
    """A path given on the command line does not exist."""


@dataclass(frozen=True)
class _IgnoreFile:
    """The patterns of one .gitignore, matched relative to its own directory."""

    base: Path
    spec: pathspec.GitIgnoreSpec

    def decision(self, path: Path, is_dir: bool) -> bool | None:
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        if relative == ".":
            return None
        return self.spec.check_file(relative + "/" if is_dir else relative).include


class FileFinder:
    def __init__(
        self,
        root: Path,
        *,
        exclude: Sequence[str],
        include: Sequence[str],
        respect_gitignore: bool,
    ) -> None:
        self.root = root
        self.exclude = pathspec.GitIgnoreSpec.from_lines(exclude)
        self.include = pathspec.GitIgnoreSpec.from_lines(include)
        self.respect_gitignore = respect_gitignore
        self.git_root = _git_root(root) if respect_gitignore else None
        self._ignore_files: dict[Path, _IgnoreFile | None] = {}
        self._info_exclude = (
            _read_ignore_file(self.git_root / ".git" / "info" / "exclude", self.git_root)
            if self.git_root is not None
            else None
        )

    def find(self, paths: Iterable[Path], *, force_exclude: bool = False) -> list[Path]:
        found: set[Path] = set()
        for given in paths:
            path = given.resolve()
            if not path.exists():
                raise DiscoveryError(f"{given}: no such file or directory")
            if path.is_dir():
                if force_exclude and self.is_excluded(path, is_dir=True):
                    continue
                found.update(self._walk(path))
            elif not (force_exclude and self.is_excluded(path, is_dir=False)):
                found.add(path)
        return sorted(found)

    def is_excluded(self, path: Path, *, is_dir: bool) -> bool:
        """Excluded by `exclude`, or ignored by git, this path or any of its parents."""
        for current, current_is_dir in self._self_and_parents(path, is_dir):
            if self._excluded_here(current, current_is_dir):
                return True
        return False

    def _self_and_parents(self, path: Path, is_dir: bool) -> Iterator[tuple[Path, bool]]:
        yield path, is_dir
        for parent in path.parents:
            if parent == self.root or self.root not in parent.parents:
                return
            yield parent, True

    def _excluded_here(self, path: Path, is_dir: bool) -> bool:
        relative = self._relative(path)
        if self.exclude.match_file(relative + "/" if is_dir else relative):
            return True
        return self._git_ignored(path, is_dir)

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name

    def _walk(self, top: Path) -> Iterator[Path]:
        stack = [top]
        while stack:
            directory = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                path = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    if not self._excluded_here(path, True):
                        stack.append(path)
                elif (
                    entry.is_file()
                    and self.include.match_file(entry.name)
                    and not self._excluded_here(path, False)
                ):
                    yield path

    # -- .gitignore --------------------------------------------------------------------------

    def _git_ignored(self, path: Path, is_dir: bool) -> bool:
        if self.git_root is None or (path != self.git_root and self.git_root not in path.parents):
            return False
        directories = [p for p in path.parents if p == self.git_root or self.git_root in p.parents]
        for directory in directories:  # innermost first: a deeper file overrides
            ignore_file = self._ignore_file(directory)
            if ignore_file is not None:
                decision = ignore_file.decision(path, is_dir)
                if decision is not None:
                    return decision
        return bool(self._info_exclude and self._info_exclude.decision(path, is_dir))

    def _ignore_file(self, directory: Path) -> _IgnoreFile | None:
        if directory not in self._ignore_files:
            self._ignore_files[directory] = _read_ignore_file(directory / ".gitignore", directory)
        return self._ignore_files[directory]


def _read_ignore_file(path: Path, base: Path) -> _IgnoreFile | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _IgnoreFile(base, pathspec.GitIgnoreSpec.from_lines(lines))


def _git_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None
