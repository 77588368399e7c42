"""The per-file pass over many files, in worker processes when that pays off."""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from audit.core.findings import FileSummary
from audit.core.settings import AnalysisSettings
from audit.core.sources import SourceFile


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def analyse_all(
    sources: Sequence[SourceFile], settings: AnalysisSettings, jobs: int, *, calls: bool = False
) -> list[FileSummary]:
    """Summaries in the order of `sources`; `calls`: only the call graph's facts, no rule
    (for library code, whose findings are never reported)."""
    work = functools.partial(_analyse, settings=settings, calls=calls)
    if jobs <= 1 or len(sources) < 4 * jobs:
        return [work(source) for source in sources]
    import libcst  # noqa: F401  (imported once here, inherited by forked workers)

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Largest files first so no worker is left with a big one at the end.
    order = sorted(range(len(sources)), key=lambda i: -len(sources[i].data))
    results: list[FileSummary | None] = [None] * len(sources)
    chunk = max(1, len(sources) // (jobs * 16))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for index, summary in zip(
            order, pool.map(work, [sources[i] for i in order], chunksize=chunk), strict=True
        ):
            results[index] = summary
    return [summary for summary in results if summary is not None]


def _analyse(source: SourceFile, settings: AnalysisSettings, calls: bool) -> FileSummary:
    from audit.engine.file_pass import analyze_file

    # A libcst tree is hundreds of thousands of acyclic objects freed by reference counting;
    # letting the cycle collector scan them while they are built costs ~10% of the run.
    gc.disable()
    try:
        return analyze_file(source, settings, () if calls else None)
    finally:
        gc.enable()
