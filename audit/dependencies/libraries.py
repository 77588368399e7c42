"""Summaries of the library modules a project reaches, computed once per distribution
version and engine build, and kept in the user cache directory.

A library module gets the same per-file pass as project code (so offloaded calls,
non-blocking sockets, constant branches, lazy iterators and done futures are understood
there too), recording only what the call graph needs. Its summary is stored under its
distribution's name and version: a project that depends on a library pays for the modules
it reaches once per machine. A document written by another engine build is ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from audit import __version__
from audit.core.facts import CallLocation, ModuleFacts
from audit.core.findings import FileSummary
from audit.core.libraries import Library, LibraryFile
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile
from audit.dependencies.environment import Environment, choose_python, read_environment
from audit.dependencies.modules import ModuleIndex
from audit.dependencies.reach import Reach
from audit.dependencies.store import JsonStore, user_cache_dir
from audit.engine.cache import namespace
from audit.engine.pool import analyse_all

_PROBLEMS = ("AUD900", "AUD901")


@dataclass(frozen=True)
class LibraryGraph:
    """The reached library modules' summaries (by absolute path), which library each file
    belongs to, the first file of each library that could not be analysed, and how many
    modules this run analysed (the others came from the cache)."""

    summaries: tuple[FileSummary, ...]
    files: Mapping[str, LibraryFile]
    problems: Mapping[Library, str]
    analysed: int


class Dependencies:
    def __init__(
        self, environment: Environment, settings: AnalysisSettings, store: JsonStore, jobs: int
    ) -> None:
        self.environment = environment
        # Library code is read for the interpreter that will run it.
        self.settings = dataclasses.replace(settings, target_version=environment.version[:2])
        self.store = store
        self.jobs = jobs
        self._documents: dict[Library, dict[str, Any]] = {}
        self._dirty: set[Library] = set()
        self._files: dict[str, LibraryFile] = {}  # every library file met, by path
        self._summaries: dict[str, FileSummary] = {}

    @cached_property
    def engine(self) -> str:
        """The engine build and analysis settings summaries are valid for (computed only
        when a library's summaries are read: a warm run never needs them)."""
        return f"{__version__}-{namespace(self.settings)}"

    @classmethod
    def open(
        cls,
        python: str,
        config_dir: Path | None,
        settings: AnalysisSettings,
        *,
        use_cache: bool,
        jobs: int,
    ) -> Dependencies:
        """The environment chosen as documented (see `choose_python`), read, with summaries
        cached in the user cache directory (in memory only without `use_cache`)."""
        store = JsonStore(user_cache_dir() / "dependencies" if use_cache else None)
        interpreter, how = choose_python(python or None, config_dir)
        return cls(read_environment(interpreter, how, store), settings, store, jobs)

    def graph(self, project: Sequence[FileSummary]) -> LibraryGraph:
        """The library modules the project's calls reach, with their summaries."""
        tops = frozenset(s.module.partition(".")[0] for s in project if s.module)
        index = ModuleIndex(self.environment, tops)
        run = _Run(self, index)
        reach = Reach(index, run.load)
        functions = [function for s in project for function in s.facts.functions]
        reach.follow(
            (edge.callee for function in functions for edge in function.edges),
            (base for s in project for cls in s.facts.classes for base in cls.bases),
        )
        self._files.update(run.files)
        self.save()
        return LibraryGraph(tuple(run.summaries.values()), run.files, run.problems, run.analysed)

    # -- the cache, one document per distribution version ---------------------------------

    def _document(self, library: Library) -> dict[str, Any]:
        if library not in self._documents:
            kept = self.store.read(_name(library))
            fresh = kept is not None and kept.get("engine") == self.engine
            modules = kept.get("modules") if kept is not None and fresh else None
            self._documents[library] = {
                "engine": self.engine,
                "library": [library.name, library.version],
                "modules": modules if isinstance(modules, dict) else {},
            }
        return self._documents[library]

    def cached(self, library: Library, shown: str, path: str) -> FileSummary | None:
        """The module's summary from the cache (read from JSON once per workspace: a
        language server runs the project pass on every edit)."""
        known = self._summaries.get(path)
        if known is not None:
            return known
        summary = self._from_document(library, shown, path)
        if summary is not None:
            self._summaries[path] = summary
        return summary

    def _from_document(self, library: Library, shown: str, path: str) -> FileSummary | None:
        entry = self._document(library)["modules"].get(shown)
        if not isinstance(entry, dict):
            return None
        try:
            facts = ModuleFacts.from_json(entry["facts"])
            return FileSummary(
                path,
                int(entry["lines"]),
                module=str(entry["module"]),
                is_package=bool(entry["package"]),
                facts=facts,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def problem(self, library: Library, shown: str) -> str | None:
        entry = self._document(library)["modules"].get(shown)
        problem = entry.get("problem") if isinstance(entry, dict) else None
        return problem if isinstance(problem, str) else None

    def put(self, library: Library, shown: str, summary: FileSummary, problem: str | None) -> None:
        self._summaries[summary.path] = summary
        self._document(library)["modules"][shown] = {
            "module": summary.module,
            "package": summary.is_package,
            "lines": summary.lines,
            "facts": summary.facts.to_json(),
            "problem": problem,
        }
        self._dirty.add(library)

    # -- located calls of library files (the hops of chains), kept with their summaries ---

    def locations(self, path: str) -> dict[int, CallLocation]:
        entry = self._entry(path)
        try:
            return {
                int(call): CallLocation.from_json(data)
                for call, data in (entry or {}).get("locations", {}).items()
            }
        except (AttributeError, TypeError, ValueError):
            return {}

    def put_locations(self, path: str, located: Mapping[int, CallLocation]) -> None:
        entry = self._entry(path)
        where = self._files.get(path)
        if entry is None or where is None:
            return
        stored = entry.setdefault("locations", {})
        for call, location in located.items():
            if str(call) not in stored:
                stored[str(call)] = location.to_json()
                self._dirty.add(where.library)

    def _entry(self, path: str) -> dict[str, Any] | None:
        where = self._files.get(path)
        if where is None:
            return None
        entry = self._document(where.library)["modules"].get(where.shown)
        return entry if isinstance(entry, dict) else None

    def save(self) -> None:
        for library in sorted(self._dirty, key=str):
            self.store.write(_name(library), self._documents[library])
        self._dirty.clear()


def _name(library: Library) -> str:
    text = f"{library.name}-{library.version}"
    return "libraries/" + "".join(c if c.isalnum() or c in "._-" else "_" for c in text) + ".json"


class _Run:
    """One search through the libraries: what it loaded and what could not be analysed."""

    def __init__(self, dependencies: Dependencies, index: ModuleIndex) -> None:
        self.dependencies = dependencies
        self.index = index
        self.summaries: dict[str, FileSummary] = {}
        self.files: dict[str, LibraryFile] = {}
        self.problems: dict[Library, str] = {}
        self.analysed = 0

    def load(self, modules: list[str]) -> dict[str, ModuleFacts]:
        deps = self.dependencies
        missing: list[tuple[SourceFile, LibraryFile]] = []
        for module in modules:
            file = self.index.file_of(module)
            owned = self.index.owner(file) if file is not None else None
            if file is None or owned is None:
                continue
            where = LibraryFile(owned[0].library, owned[1])
            summary = deps.cached(where.library, where.shown, str(file))
            if summary is not None:
                self._keep(summary, where, deps.problem(where.library, where.shown))
                continue
            try:
                data = file.read_bytes()
            except OSError as error:
                self._problem(where, f"{where.shown}: cannot be read: {error.strerror}")
                continue
            source = SourceFile(str(file), module, file.name == "__init__.py", data)
            missing.append((source, where))
        fresh = analyse_all([source for source, _ in missing], deps.settings, deps.jobs, calls=True)
        self.analysed += len(fresh)
        for (source, where), summary in zip(missing, fresh, strict=True):
            problem = _problem(summary, where)
            if problem is not None:
                summary = FileSummary(source.path, summary.lines, module=source.module)
            deps.put(where.library, where.shown, summary, problem)
            self._keep(summary, where, problem)
        asked = set(modules)
        return {s.module: s.facts for s in self.summaries.values() if s.module in asked}

    def _keep(self, summary: FileSummary, where: LibraryFile, problem: str | None) -> None:
        self.summaries[summary.path] = summary
        self.files[summary.path] = where
        if problem is not None:
            self._problem(where, problem)

    def _problem(self, where: LibraryFile, problem: str) -> None:
        self.problems.setdefault(where.library, problem)


def _problem(summary: FileSummary, where: LibraryFile) -> str | None:
    """`httpx/_config.py:3:5: <why>` when the module could not be analysed."""
    for finding in summary.findings:
        if finding.code in _PROBLEMS:
            return f"{where.shown}:{finding.line}:{finding.column}: {finding.message}"
    return None
