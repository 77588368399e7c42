"""A project as soni-audit sees it, for as long as its user needs it: a CLI run, a report,
or (later) a language server that checks file after file.

It owns which files belong to the project (discovery), reading them (`sources`), their
per-file analyses (cached on disk or in memory, in worker processes when that pays off),
the project pass over the call graph, and the filter that turns every finding into what is
reported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from audit import __version__
from audit.core.facts import CallLocation
from audit.core.findings import FileSummary, Finding
from audit.core.sources import SourceFile, read_source, relative_path
from audit.engine.adoption import Adoption
from audit.engine.cache import SummaryCache, namespace, project_key
from audit.engine.config import Config
from audit.engine.discovery import FileFinder
from audit.engine.filtering import FindingFilter
from audit.engine.noqa_pass import noqa_findings
from audit.engine.pool import analyse_all, default_jobs
from audit.engine.results import CheckResult, RunDetails
from audit.interprocedural.project import Project
from audit.rules import RULE_CODES, file_rules, precedence, rule_named
from audit.rules.aud900_parse_error import ParseError
from audit.rules.selection import RuleSelection

if TYPE_CHECKING:
    from audit.analysis.mypy_unused import MypyReport
    from audit.dependencies.libraries import Dependencies


@dataclass(frozen=True)
class _Files:
    """Files read for a run: their sources, and summaries of those that could not be read."""

    sources: list[SourceFile]
    unreadable: list[FileSummary]


class Workspace:
    def __init__(
        self,
        config: Config,
        *,
        use_cache: bool = True,
        jobs: int | None = None,
        save_cache: bool = True,
    ):
        """`save_cache=False`: `check` leaves the cache file alone (a language server checks
        on every edit and writes the cache with `self.cache.save` when it chooses)."""
        self.config = config
        self.save_cache = save_cache
        self.root = config.root.resolve()
        self.settings = config.analysis_settings
        self.jobs = jobs or default_jobs()
        self.finder = FileFinder(
            self.root,
            exclude=(*config.exclude, *config.extend_exclude),
            include=config.include,
            respect_gitignore=config.respect_gitignore,
        )
        directory = self.root / config.cache_dir / __version__ if use_cache else None
        self.cache = SummaryCache(directory, namespace(self.settings))
        self.nonblocking = frozenset(config.nonblocking)
        self.source_roots = config.source_roots
        # Files held in memory in place of their content on disk (fixed, not yet written;
        # later an editor's unsaved buffers), by path relative to the root.
        self._overlays: dict[str, bytes] = {}
        self._context_memo: tuple[str, list[FileSummary]] | None = None
        self.use_cache = use_cache
        self._dependencies: Dependencies | None = None

    # -- files ---------------------------------------------------------------------------

    def hold(self, path: str, data: bytes) -> None:
        """Read `path` (relative to the root) as `data` from now on, not from disk."""
        self._overlays[path] = data

    def release(self) -> None:
        """Read every file from disk again."""
        self._overlays.clear()

    def files(self, paths: Sequence[Path], *, force_exclude: bool = False) -> list[Path]:
        return self.finder.find(paths, force_exclude=force_exclude)

    def read(self, files: Sequence[Path]) -> _Files:
        sources, unreadable = [], []
        for file in files:
            try:
                data = (
                    self._overlays.get(relative_path(file, self.root)) if self._overlays else None
                )
                sources.append(read_source(file, self.root, self.source_roots, data))
            except OSError as error:
                path = relative_path(file, self.root)
                finding = ParseError.unreadable(path, error)
                unreadable.append(FileSummary(path, 0, (finding,), module=path))
        return _Files(sources, unreadable)

    # -- analysis ------------------------------------------------------------------------

    def summaries(self, sources: Sequence[SourceFile]) -> tuple[list[FileSummary], int]:
        """Every file's summary, from the cache or analysed now; and how many were analysed.
        Cached summaries come without their interprocedural facts (see `with_facts`)."""
        found: list[FileSummary] = []
        missing: list[SourceFile] = []
        for source in sources:
            cached = self.cache.get(source.path, source.key)
            if cached is not None:
                found.append(cached)
            else:
                missing.append(source)
        fresh = analyse_all(missing, self.settings, self.jobs)
        for source, summary in zip(missing, fresh, strict=True):
            self.cache.put(source.path, source.key, summary)
        return [*found, *fresh], len(missing)

    def with_facts(
        self, summaries: Sequence[FileSummary], keys: Mapping[str, str]
    ) -> list[FileSummary]:
        """The summaries with their interprocedural facts, which a cache hit leaves out."""
        return [
            s
            if s.facts.functions or s.facts.aliases or s.path not in keys
            else replace(s, facts=self.cache.facts(s.path, keys[s.path]) or s.facts)
            for s in summaries
        ]

    def project_findings(
        self,
        summaries: Sequence[FileSummary],
        checked: Sequence[SourceFile],
        context: Sequence[SourceFile],
    ) -> list[Finding]:
        """Findings of the project pass in the checked files. `context` holds the project's
        other files when only some are checked: they complete the call graph (from the
        cache, or analysed now); their findings are not reported."""
        keys = {source.path: source.key for source in checked}
        every_key = {**keys, **{source.path: source.key for source in context}}
        dependencies = self.dependencies()
        # The findings kept are those of the checked files: which files were checked is part
        # of the key (a check of one buffer must not answer for another over the same files).
        options = json.dumps([sorted(self.nonblocking), sorted(keys)])
        if dependencies is not None:
            options += dependencies.environment.fingerprint()
        key = project_key(every_key, options)
        cached = self.cache.project_findings(key)
        if cached is not None:
            return cached
        graph = [*self.with_facts(summaries, keys), *self._context_graph(context)]
        from audit.engine.project_pass import project_findings

        known = _KnownLocations(self.cache, every_key, dependencies)
        read = _reader(self.root, {s.path: s.data for s in (*checked, *context)})
        only = frozenset(keys) if context or dependencies is not None else None
        problems: list[Finding] = []
        libraries = None
        if dependencies is not None:
            from audit.dependencies.problems import problem_findings

            reached = dependencies.graph(graph)
            graph.extend(reached.summaries)
            libraries = reached.files
            problems = problem_findings(
                reached.problems, dependencies.environment, list(keys), read
            )
        result = project_findings(
            graph, read, self.nonblocking, known, self.settings, only, libraries
        )
        findings = [finding for finding in result.findings if finding.path in keys] + problems
        for path, located in result.locations.items():
            if path in every_key:
                self.cache.put_locations(path, every_key[path], located)
            elif dependencies is not None:
                dependencies.put_locations(path, located)
        if dependencies is not None:
            dependencies.save()
        self.cache.put_project_findings(key, findings)
        return findings

    def dependencies(self) -> Dependencies | None:
        """The installed libraries to follow calls into (`dependencies = true`), read once
        per workspace; None when the project does not ask for them."""
        if self.config.dependencies and self._dependencies is None:
            from audit.dependencies.libraries import Dependencies

            source = self.config.source
            self._dependencies = Dependencies.open(
                self.config.python,
                source.parent if source is not None else None,
                self.settings,
                use_cache=self.use_cache,
                jobs=self.jobs,
            )
        return self._dependencies

    def _context_graph(self, context: Sequence[SourceFile]) -> list[FileSummary]:
        """The other files' summaries with their facts, kept while those files are unchanged
        (a language server checks buffer after buffer against the same project)."""
        keys = {source.path: source.key for source in context}
        key = project_key(keys, "")
        if self._context_memo is None or self._context_memo[0] != key:
            self._context_memo = (key, self.with_facts(self.summaries(context)[0], keys))
        return self._context_memo[1]

    def context(self, paths: Sequence[Path], checked: Sequence[SourceFile]) -> list[SourceFile]:
        """The project's files that are not being checked, when only some are."""
        if any(path.resolve() == self.root for path in paths):
            return []
        names = {source.path for source in checked}
        others = [f for f in self.files([self.root]) if relative_path(f, self.root) not in names]
        return self.read(others).sources

    def graph(self, details: RunDetails) -> Project:
        """The project's call graph, as the run that produced `details` saw it."""
        return Project(details.summaries, self.nonblocking)

    @staticmethod
    def sources_of(details: RunDetails) -> list[SourceFile]:
        """The checked files as the run read them."""
        return [
            SourceFile(s.path, s.module, s.is_package, details.sources[s.path])
            for s in details.summaries
            if s.path in details.sources
        ]

    # -- findings ------------------------------------------------------------------------

    def finding_filter(self, selection: RuleSelection) -> FindingFilter:
        return FindingFilter(selection, self.config.per_file_ignores, precedence)

    def check(
        self,
        paths: Sequence[Path],
        *,
        selection: RuleSelection,
        force_exclude: bool = False,
        cwd: Path | None = None,
        mypy: bool = False,
        details: bool = False,
        adoption: Adoption | None = None,
        context: Sequence[SourceFile] | None = None,
    ) -> CheckResult:
        """`context`: the project's other files, when the caller holds them already (a
        language server reads them once, not on every edit)."""
        files = self.read(self.files(paths, force_exclude=force_exclude))
        summaries, analysed = self.summaries(files.sources)
        if context is None:
            context = self.context(paths, files.sources)
        extra = self.project_findings(summaries, files.sources, context)
        if self.save_cache:
            self.cache.save(self.root)
        report = self._mypy([s.path for s in files.sources]) if mypy else None
        if report is not None:
            extra.extend(f for rule in file_rules() for f in rule.check_mypy(report))
            summaries = [_with_mypy(summary, report) for summary in summaries]
        codes = (*RULE_CODES, *(rule.code for rule in self.config.pattern_rules))
        texts = {source.path: source.data for source in files.sources}
        extra.extend(noqa_findings(_with_findings(summaries, extra), texts, codes, mypy=mypy))
        summaries = _with_findings([*summaries, *files.unreadable], extra)
        filtered = self.finding_filter(selection).apply(summaries)
        adopted = (adoption or Adoption()).apply(
            filtered.findings, texts, checked=frozenset(texts), selection=selection
        )
        show = _Display(self.root, (cwd or Path.cwd()).resolve())
        ordered = sorted(summaries, key=lambda summary: summary.path)
        result = CheckResult(
            findings=show.all(adopted.new),
            files=len(summaries),
            lines=sum(summary.lines for summary in summaries),
            suppressed=filtered.suppressed,
            cached=len(summaries) - analysed,
            inventory={s.module or s.path: s.inventory for s in ordered},
            baselined=show.all(adopted.known),
            stale=adopted.stale,
            entries=adopted.entries,
            environment=self._dependencies.environment.describe() if self._dependencies else "",
        )
        if not details:
            return result
        keys = {source.path: source.key for source in files.sources}
        return replace(result, details=RunDetails(tuple(self.with_facts(summaries, keys)), texts))

    def _mypy(self, paths: list[str]) -> MypyReport:
        from audit.analysis.mypy_unused import mypy_report

        return mypy_report(self.root, paths)


def _with_mypy(summary: FileSummary, report: MypyReport) -> FileSummary:
    """The summary's findings completed with what mypy said (fixes that need its codes)."""
    findings = []
    for finding in summary.findings:
        rule = rule_named(finding.code)
        findings.append(rule().with_mypy(finding, report) if rule is not None else finding)
    return replace(summary, findings=tuple(findings))


def _with_findings(summaries: list[FileSummary], extra: list[Finding]) -> list[FileSummary]:
    """The summaries with extra findings added to the files they belong to."""
    by_path: dict[str, list[Finding]] = {}
    for finding in extra:
        by_path.setdefault(finding.path, []).append(finding)
    return [
        replace(s, findings=tuple(sorted((*s.findings, *by_path[s.path]))))
        if s.path in by_path
        else s
        for s in summaries
    ]


class _KnownLocations(Mapping[str, Mapping[int, CallLocation]]):
    """Located calls of every file of the run, read from the cache when asked for (the
    project pass asks only for the files its chains pass through)."""

    def __init__(
        self, cache: SummaryCache, keys: Mapping[str, str], libraries: Dependencies | None
    ) -> None:
        """`libraries`: where installed libraries' files have their calls located."""
        self._cache, self._keys, self._libraries = cache, keys, libraries

    def __getitem__(self, path: str) -> Mapping[int, CallLocation]:
        if path not in self._keys and self._libraries is not None:
            return self._libraries.locations(path)
        return self._cache.locations(path, self._keys[path])

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _reader(root: Path, sources: dict[str, bytes]) -> Callable[[str], bytes]:
    """The bytes a file had when it was analysed (so call ordinals still match)."""

    def read(path: str) -> bytes:
        return sources[path] if path in sources else (root / path).read_bytes()

    return read


class _Display:
    """Findings with their paths as shown to someone working in `cwd`."""

    def __init__(self, root: Path, cwd: Path) -> None:
        self.root, self.cwd = root, cwd
        self._shown: dict[str, str] = {}

    def path(self, path: str) -> str:
        if path not in self._shown:
            self._shown[path] = display_path(path, self.root, self.cwd)
        return self._shown[path]

    def all(self, findings: Sequence[Finding]) -> tuple[Finding, ...]:
        return tuple(
            replace(
                finding,
                path=self.path(finding.path),
                related=tuple(replace(r, path=self.path(r.path)) for r in finding.related),
            )
            for finding in findings
        )


def display_path(path: str, root: Path, cwd: Path) -> str:
    """A path relative to the root, as shown to someone working in `cwd`."""
    absolute = Path(path) if Path(path).is_absolute() else root / path
    try:
        return absolute.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(absolute, cwd)
