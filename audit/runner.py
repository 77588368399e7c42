"""`soni-audit check` end to end: discover, analyse (cached, in parallel), filter, summarise."""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pathspec

from audit import __version__
from audit.analysis.settings import AnalysisSettings
from audit.cache import SummaryCache, content_hash, project_key
from audit.config import Config
from audit.discovery import FileFinder
from audit.findings import FileSummary, Finding, Inventory
from audit.modules import module_name
from audit.selection import RuleSelection, matches


@dataclass(frozen=True)
class CheckResult:
    """Findings left after selection and suppression, with what the run covered.

    `inventory` holds each module's type-checking escapes (for reports and the budget).
    """

    findings: tuple[Finding, ...]
    files: int
    lines: int
    suppressed: int
    cached: int
    inventory: Mapping[str, Inventory] = field(default_factory=dict)
    details: RunDetails | None = None

    @property
    def by_code(self) -> dict[str, int]:
        return dict(sorted(Counter(f.code for f in self.findings).items()))

    @property
    def files_with_findings(self) -> int:
        return len({f.path for f in self.findings})


@dataclass(frozen=True)
class RunDetails:
    """What the report needs beyond the findings: every summary with its interprocedural
    facts, and the bytes each file had when it was analysed."""

    summaries: tuple[FileSummary, ...]
    sources: Mapping[str, bytes]


@dataclass(frozen=True)
class _Task:
    path: str
    module: str
    is_package: bool
    data: bytes
    key: str


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run_check(
    config: Config,
    paths: Sequence[Path],
    *,
    selection: RuleSelection,
    jobs: int,
    use_cache: bool = True,
    force_exclude: bool = False,
    cwd: Path | None = None,
    mypy: bool = False,
    details: bool = False,
) -> CheckResult:
    root = config.root.resolve()
    finder = FileFinder(
        root,
        exclude=(*config.exclude, *config.extend_exclude),
        include=config.include,
        respect_gitignore=config.respect_gitignore,
    )
    files = finder.find(paths, force_exclude=force_exclude)
    settings = config.analysis_settings
    cache = (
        SummaryCache(root / config.cache_dir / __version__, _namespace(settings))
        if use_cache
        else None
    )
    summaries: list[FileSummary] = []
    tasks: list[_Task] = []
    sources: dict[str, bytes] = {}
    keys: dict[str, str] = {}
    source_roots = config.source_roots
    for file in files:
        relative = _relative_to(file, root)
        try:
            data = file.read_bytes()
        except OSError as error:
            summaries.append(_unreadable(relative, error))
            continue
        sources[relative] = data
        module, is_package = module_name(file, source_roots)
        key = keys[relative] = content_hash(relative, module, data)
        cached = cache.get(relative, key) if cache is not None else None
        if cached is not None:
            summaries.append(cached)
        else:
            tasks.append(_Task(relative, module, is_package, data, key))
    fresh = _analyse_and_cache(tasks, settings, jobs, cache)
    summaries.extend(fresh)
    context = _context_tasks(finder, paths, root, keys, source_roots)
    project = _ProjectPass(config, root, settings, jobs, cache)
    extra = project.findings(summaries, sources, keys, context)
    if cache is not None:
        cache.save(root)
    if mypy:
        from audit.mypy_unused import unused_ignores

        extra.extend(unused_ignores(root, [summary.path for summary in summaries]))
    summaries = _with_findings(summaries, extra)
    result = _filter(summaries, config, selection, root, (cwd or Path.cwd()).resolve(), len(tasks))
    if not details:
        return result
    if cache is not None:
        summaries = _with_cached_facts(summaries, cache, keys)
    return replace(result, details=RunDetails(tuple(summaries), sources))


def _analyse_and_cache(
    tasks: list[_Task], settings: AnalysisSettings, jobs: int, cache: SummaryCache | None
) -> list[FileSummary]:
    fresh = _analyse(tasks, settings, jobs)
    if cache is not None:
        for task, summary in zip(tasks, fresh, strict=True):
            cache.put(task.path, task.key, summary)
    return fresh


@dataclass(frozen=True)
class _ProjectPass:
    """The interprocedural pass over the whole project, skipped when no file changed since
    the last run."""

    config: Config
    root: Path
    settings: AnalysisSettings
    jobs: int
    cache: SummaryCache | None

    def findings(
        self,
        summaries: list[FileSummary],
        sources: dict[str, bytes],
        keys: dict[str, str],
        context: list[_Task],
    ) -> list[Finding]:
        """Findings in the checked files (`keys`). `context` holds the project's other files
        when only some are checked: they complete the call graph (from the cache, or
        analysed now), their findings are not reported."""
        cache = self.cache
        nonblocking = frozenset(self.config.nonblocking)
        every_key = {**keys, **{task.path: task.key for task in context}}
        key = project_key(every_key, json.dumps(sorted(nonblocking)))
        cached = cache.project_findings(key) if cache is not None else None
        if cached is not None:
            return cached
        graph = [*summaries, *self._summaries(context)]
        if cache is not None:
            graph = _with_cached_facts(graph, cache, every_key)
        from audit.interprocedural.run import project_findings

        known = {path: cache.locations(path, k) for path, k in keys.items()} if cache else {}
        every_source = {**sources, **{task.path: task.data for task in context}}
        result = project_findings(graph, _reader(self.root, every_source), nonblocking, known)
        findings = [finding for finding in result.findings if finding.path in keys]
        if cache is not None:
            for path, located in result.locations.items():
                cache.put_locations(path, every_key[path], located)
            cache.put_project_findings(key, findings)
        return findings

    def _summaries(self, context: list[_Task]) -> list[FileSummary]:
        cache = self.cache
        found, missing = [], []
        for task in context:
            cached = cache.get(task.path, task.key) if cache is not None else None
            if cached is not None:
                found.append(cached)
            else:
                missing.append(task)
        return [*found, *_analyse_and_cache(missing, self.settings, self.jobs, cache)]


def _with_cached_facts(
    summaries: list[FileSummary], cache: SummaryCache, keys: Mapping[str, str]
) -> list[FileSummary]:
    """The summaries with their interprocedural facts, which a cache hit leaves out."""
    return [
        s
        if s.facts.functions or s.facts.aliases or s.path not in keys
        else replace(s, facts=cache.facts(s.path, keys[s.path]) or s.facts)
        for s in summaries
    ]


def _context_tasks(
    finder: FileFinder,
    paths: Sequence[Path],
    root: Path,
    keys: dict[str, str],
    source_roots: Sequence[Path],
) -> list[_Task]:
    """The project files not being checked (see `_project_findings`)."""
    if any(path.resolve() == root for path in paths):
        return []
    context = []
    for file in finder.find([root]):
        relative = _relative_to(file, root)
        if relative in keys:
            continue
        try:
            data = file.read_bytes()
        except OSError:
            continue
        module, is_package = module_name(file, source_roots)
        key = content_hash(relative, module, data)
        context.append(_Task(relative, module, is_package, data, key))
    return context


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


def _reader(root: Path, sources: dict[str, bytes]) -> Callable[[str], bytes]:
    """The bytes a file had when it was analysed (so call ordinals still match)."""

    def read(path: str) -> bytes:
        return sources[path] if path in sources else (root / path).read_bytes()

    return read


def _namespace(settings: AnalysisSettings) -> str:
    """Cache entries are valid for one build of the tool and one analysis configuration."""
    from audit.catalogue import catalogue_fingerprint

    package = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=8)
    for source in sorted(package.rglob("*.py")):
        stat = source.stat()
        digest.update(f"{source.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{digest.hexdigest()}-{catalogue_fingerprint()}-{settings.fingerprint()}"


def _analyse(tasks: list[_Task], settings: AnalysisSettings, jobs: int) -> list[FileSummary]:
    work = functools.partial(_analyse_task, settings=settings)
    if jobs <= 1 or len(tasks) < 4 * jobs:
        return [work(task) for task in tasks]
    import libcst  # noqa: F401  (imported once here, inherited by forked workers)

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Largest files first so no worker is left with a big one at the end.
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].data))
    results: list[FileSummary | None] = [None] * len(tasks)
    chunk = max(1, len(tasks) // (jobs * 16))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for index, summary in zip(
            order, pool.map(work, [tasks[i] for i in order], chunksize=chunk), strict=True
        ):
            results[index] = summary
    return [summary for summary in results if summary is not None]


def _analyse_task(task: _Task, settings: AnalysisSettings) -> FileSummary:
    from audit.analysis.file_pass import analyze_file

    # A libcst tree is hundreds of thousands of acyclic objects freed by reference counting;
    # letting the cycle collector scan them while they are built costs ~10% of the run.
    gc.disable()
    try:
        return analyze_file(
            task.data,
            path=task.path,
            module=task.module,
            is_package=task.is_package,
            settings=settings,
        )
    finally:
        gc.enable()


def _unreadable(path: str, error: OSError) -> FileSummary:
    message = f"cannot read file: {error.strerror or error}"
    return FileSummary(path, 0, (Finding(path, 1, 1, 1, 2, "AUD900", message),), module=path)


def _relative_to(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _filter(
    summaries: list[FileSummary],
    config: Config,
    selection: RuleSelection,
    root: Path,
    cwd: Path,
    analysed: int,
) -> CheckResult:
    per_file = [
        (pathspec.GitIgnoreSpec.from_lines([pattern]), codes)
        for pattern, codes in config.per_file_ignores.items()
    ]
    kept: list[Finding] = []
    suppressed = 0
    for summary in summaries:
        ignored = [
            code for spec, codes in per_file if spec.match_file(summary.path) for code in codes
        ]
        display = _display_path(summary.path, root, cwd)
        for finding in summary.findings:
            if finding.code not in selection or any(matches(c, finding.code) for c in ignored):
                continue
            if summary.suppressions.suppresses(finding):
                suppressed += 1
                continue
            kept.append(replace(finding, path=display))
    return CheckResult(
        findings=tuple(sorted(kept)),
        files=len(summaries),
        lines=sum(summary.lines for summary in summaries),
        suppressed=suppressed,
        cached=len(summaries) - analysed,
        inventory={s.module or s.path: s.inventory for s in sorted(summaries, key=_by_path)},
    )


def _by_path(summary: FileSummary) -> str:
    return summary.path


def _display_path(path: str, root: Path, cwd: Path) -> str:
    absolute = Path(path) if Path(path).is_absolute() else root / path
    try:
        return absolute.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(absolute, cwd)
