"""Installed libraries as the project pass sees them: which distribution a file of the
call graph belongs to, so chains that enter one are told apart from the project's own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Library:
    """An installed distribution: its name and version as its metadata gives them."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class LibraryFile:
    """A file of an installed library: its distribution, and its path below the
    site-packages directory (`httpx/_config.py`), as messages show it."""

    library: Library
    shown: str
