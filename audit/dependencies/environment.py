"""The Python environment whose installed distributions are read, and what it holds.

The interpreter is, in order: `--python` (or `python` in the configuration), the active
virtual environment (`VIRTUAL_ENV`), a `.venv` beside the configuration file, the
interpreter running soni-audit. It is asked once, as a subprocess running only its standard
library (`probe.py`), for its import path and distributions; the answer is kept while the
interpreter and its library directories are unchanged on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from audit.core.libraries import Library
from audit.dependencies.store import JsonStore

_PROBE = Path(__file__).with_name("probe.py")
_TIMEOUT_S = 60


class DependencyError(Exception):
    """The environment to read cannot be found or does not answer; names the interpreter."""


@dataclass(frozen=True)
class Distribution:
    library: Library
    top: tuple[str, ...]  # the top-level import names it installs
    location: str  # the directory its files are relative to


@dataclass(frozen=True)
class Environment:
    python: str
    how: str  # why this interpreter was chosen
    version: tuple[int, int, int]
    path: tuple[str, ...]
    stdlib: tuple[str, ...]
    distributions: tuple[Distribution, ...]

    @cached_property
    def library_dirs(self) -> tuple[Path, ...]:
        """Import-path directories that hold installed libraries, not the standard library."""
        stdlib = [Path(entry) for entry in self.stdlib]
        found = []
        for entry in self.path:
            directory = Path(entry)
            if not directory.is_dir():
                continue
            installed = directory.name in ("site-packages", "dist-packages")
            if not installed and any(d == directory or d in directory.parents for d in stdlib):
                continue
            if directory not in found:
                found.append(directory)
        return tuple(found)

    @cached_property
    def owners(self) -> dict[str, list[Distribution]]:
        """Top-level import name -> the distributions installing it."""
        owners: dict[str, list[Distribution]] = {}
        for dist in self.distributions:
            for top in dist.top:
                owners.setdefault(top, []).append(dist)
        return owners

    def fingerprint(self) -> str:
        """Changes when the interpreter or any installed distribution's version does."""
        digest = hashlib.blake2b(digest_size=12)
        digest.update(f"{self.python}\0{self.version}\0".encode())
        for dist in sorted(self.distributions, key=lambda d: d.library.name):
            digest.update(f"{dist.library}\0".encode())
        return digest.hexdigest()

    def describe(self) -> str:
        major, minor, micro = self.version
        return (
            f"dependencies read from {self.python} ({self.how}; Python {major}.{minor}.{micro}, "
            f"{len(self.distributions)} distributions)"
        )


def choose_python(
    explicit: str | None, config_dir: Path | None, environ: Mapping[str, str] = os.environ
) -> tuple[Path, str]:
    """The interpreter to read, and why it was chosen."""
    if explicit:
        return _interpreter(Path(explicit), "--python"), "--python"
    virtual = environ.get("VIRTUAL_ENV")
    if virtual:
        return _interpreter(Path(virtual), "VIRTUAL_ENV"), "VIRTUAL_ENV"
    if config_dir is not None and (config_dir / ".venv").is_dir():
        return _interpreter(config_dir / ".venv", ".venv"), ".venv beside the configuration"
    return Path(sys.executable), "the interpreter running soni-audit"


def _interpreter(path: Path, source: str) -> Path:
    """`path` itself, or the interpreter of the environment directory it names."""
    if path.is_dir():
        for candidate in (path / "bin" / "python", path / "Scripts" / "python.exe"):
            if candidate.exists():
                return candidate
        raise DependencyError(f"{source}: {path} is a directory without bin/python")
    if not path.exists():
        raise DependencyError(f"{source}: no interpreter at {path}")
    return path


def read_environment(python: Path, how: str, store: JsonStore) -> Environment:
    """What `python` has installed: from the store while nothing changed on disk, else
    from running it once."""
    key = hashlib.blake2b(str(python.absolute()).encode(), digest_size=10).hexdigest()
    name = f"environments/{key}.json"
    kept = store.read(name)
    if kept is not None and kept.get("stamp") == _stamp(python, kept.get("report", {})):
        return _environment(str(python), how, kept["report"])
    report = _probe(python)
    store.write(name, {"stamp": _stamp(python, report), "report": report})
    return _environment(str(python), how, report)


def _probe(python: Path) -> dict[str, Any]:
    source = _PROBE.read_text(encoding="utf-8")
    try:
        done = subprocess.run(  # noqa: S603 -- the interpreter the user chose, no shell
            [str(python), "-I", "-c", source],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DependencyError(f"cannot run {python}: {error}") from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DependencyError(f"{python} failed to describe its environment: {last}")
    try:
        report = json.loads(done.stdout)
    except ValueError as error:
        raise DependencyError(f"{python} answered something that is not JSON") from error
    if not isinstance(report, dict):
        raise DependencyError(f"{python} answered something unexpected")
    return report


def _stamp(python: Path, report: Mapping[str, Any]) -> list[object]:
    """Modification times of the interpreter and of every import-path directory: installing,
    upgrading or removing a distribution changes the directory it lives in."""
    stamp: list[object] = []
    for entry in (str(python), *report.get("path", ())):
        try:
            stamp.append([entry, os.stat(entry).st_mtime_ns])
        except OSError:
            stamp.append([entry, None])
    return stamp


def _environment(python: str, how: str, report: Mapping[str, Any]) -> Environment:
    try:
        major, minor, micro = (int(part) for part in report["version"])
        distributions = tuple(
            Distribution(
                Library(str(item["name"]), str(item["version"])),
                tuple(str(top) for top in item["top"]),
                str(item["location"]),
            )
            for item in report["distributions"]
        )
        return Environment(
            python,
            how,
            (major, minor, micro),
            tuple(str(entry) for entry in report["path"]),
            tuple(str(entry) for entry in report["stdlib"]),
            distributions,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DependencyError(
            f"{python} described its environment incompletely: {error}"
        ) from error
