"""Stack frames as plain values, whatever sampled them, and what counts as project code."""

from __future__ import annotations

import sysconfig
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

_THIRD_PARTY = frozenset({"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox"})
_STDLIB = tuple(str(Path(sysconfig.get_paths()[key]).resolve()) for key in ("stdlib", "platstdlib"))


@dataclass(frozen=True, order=True)
class Frame:
    """One frame: absolute file (or `<built-in>`), current line, qualified function name."""

    file: str
    line: int
    function: str

    @property
    def builtin(self) -> bool:
        return self.file.startswith("<")

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frame:
        return cls(file=data["file"], line=int(data["line"]), function=data["function"])


Stack = tuple[Frame, ...]
"""Outermost frame first, like a traceback."""


@dataclass(frozen=True)
class Segment:
    """A thread ran `stack` from `start` to `end` (seconds on the source's clock)."""

    thread: str
    start: float
    end: float
    stack: Stack


def module_name(file: str) -> str:
    """`pathlib` for `/usr/lib/python3.11/pathlib.py`, `httpx._client` for site-packages."""
    path = PurePath(file)
    parts = path.parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            parts = parts[len(parts) - parts[::-1].index(marker) :]
            break
    else:
        for prefix in _STDLIB:
            if file.startswith(prefix + "/"):
                parts = PurePath(file[len(prefix) + 1 :]).parts
                break
        else:
            parts = (path.name,)
    names = [*parts[:-1], PurePath(parts[-1]).stem] if parts else [path.stem]
    if names[-1] == "__init__" and len(names) > 1:
        names.pop()
    return ".".join(names)


def _prefix(root: Path) -> str:
    return str(root).rstrip("/") + "/"


class ProjectFiles:
    """Which frames are the project's own code: under `root` (or one of `extra_roots`), not
    installed packages. Paths are shown relative to `root`.

    `exclude` names files that sit in the project but are tooling (the watchdog itself).
    `extra_roots` serve a library and its user together: the soni server charges a block to
    the configuration's own actions before soni's code that called them.
    """

    def __init__(
        self, root: Path, exclude: tuple[str, ...] = (), extra_roots: tuple[Path, ...] = ()
    ) -> None:
        self.root = root.resolve()
        self._prefixes = (_prefix(self.root), *(_prefix(extra.resolve()) for extra in extra_roots))
        self._exclude = exclude
        self._cache: dict[str, bool] = {}

    def __contains__(self, frame: object) -> bool:
        if not isinstance(frame, Frame) or frame.builtin:
            return False
        known = self._cache.get(frame.file)
        if known is None:
            known = self._cache[frame.file] = self._decide(frame.file)
        return known

    def _decide(self, file: str) -> bool:
        return any(self._inside(file, prefix) for prefix in self._prefixes)

    def _inside(self, file: str, prefix: str) -> bool:
        if not file.startswith(prefix):
            return False
        inside = PurePath(file[len(prefix) :]).parts
        if _THIRD_PARTY.intersection(inside):
            return False
        return not any(file.endswith(suffix) for suffix in self._exclude)

    def relative(self, file: str) -> str:
        """`file` relative to the root when inside it, else unchanged."""
        prefix = self._prefixes[0]
        return file[len(prefix) :] if file.startswith(prefix) else file
