"""Time soni-audit against flake8-async and ruff on ~140k lines of real third-party code.

The corpus is installed from PyPI into a temporary directory (fastapi, starlette, langgraph,
langchain-core and langgraph's checkpoint/prebuilt packages), never our own code. Every tool
runs on the same files, with the same number of jobs, in one run; each timing is the median
of --repeat runs.

    python scripts/bench_audit.py                    # table on stdout
    python scripts/bench_audit.py --output reports/bench-audit.md
    python scripts/bench_audit.py --corpus DIR       # reuse an installed corpus
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from harness.corpus import SOURCES, corpus_size, install_corpus, versions
from harness.report import emit, machine
from harness.tools import soni_audit_at, timed, tool, worktree


@dataclass
class Timing:
    tool: str
    mode: str
    seconds: list[float]
    findings: int
    blocking: int = 0  # findings about blocking calls: BLK1xx, or ASYNC2xx for the peers

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(corpus: Path, jobs: int, repeat: int, baseline: Path | None = None) -> list[Timing]:
    soni = [tool("soni-audit"), "check", "--jobs", str(jobs), "--format", "json", *SOURCES]
    flake8 = [tool("flake8"), "--select", "ASYNC", "-j", str(jobs), *SOURCES]
    ruff = [
        tool("ruff"),
        "check",
        "--isolated",
        "--select",
        "ASYNC",
        "--output-format",
        "concise",
        *SOURCES,
    ]
    cache = corpus / ".soni-audit-cache"
    ruff_cache = corpus / ".ruff_cache"
    timings = {
        key: Timing(*key, [], 0)
        for key in [
            ("soni-audit", "cold"),
            ("soni-audit", "warm"),
            *(
                [("soni-audit @ baseline", "cold"), ("soni-audit @ baseline", "warm")]
                if baseline is not None
                else []
            ),
            ("flake8-async", "-"),
            ("ruff", "cold"),
            ("ruff", "warm"),
        ]
    }
    for _ in range(repeat):
        shutil.rmtree(cache, ignore_errors=True)
        for mode in ("cold", "warm"):
            seconds, run = timed(soni, corpus)
            timings["soni-audit", mode].seconds.append(seconds)
            found = json.loads(run.stdout)["findings"]
            timings["soni-audit", mode].findings = len(found)
            timings["soni-audit", mode].blocking = sum(f["code"].startswith("BLK1") for f in found)
        if baseline is not None:
            shutil.rmtree(cache, ignore_errors=True)
            command = [*soni_audit_at(baseline), *soni[1:]]
            for mode in ("cold", "warm"):
                seconds, run = timed(command, corpus)
                found = json.loads(run.stdout)["findings"]
                row = timings["soni-audit @ baseline", mode]
                row.seconds.append(seconds)
                row.findings = len(found)
                row.blocking = sum(f["code"].startswith("BLK1") for f in found)
        seconds, run = timed(flake8, corpus)
        output = run.stdout
        timings["flake8-async", "-"].seconds.append(seconds)
        timings["flake8-async", "-"].findings = len(output.splitlines())
        timings["flake8-async", "-"].blocking = output.count(" ASYNC2")
        shutil.rmtree(ruff_cache, ignore_errors=True)
        for mode in ("cold", "warm"):
            seconds, run = timed([*ruff, *(["--no-cache"] if mode == "cold" else [])], corpus)
            output = run.stdout
            timings["ruff", mode].seconds.append(seconds)
            timings["ruff", mode].findings = output.count(": ASYNC")
            timings["ruff", mode].blocking = output.count(": ASYNC2")
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(ruff_cache, ignore_errors=True)
    return list(timings.values())


def render(timings: list[Timing], files: int, lines: int, jobs: int, corpus: list[str]) -> str:
    baseline = next(t for t in timings if t.tool == "flake8-async").median
    rows = [
        "| tool | mode | seconds (median) | runs | speed vs flake8-async | findings"
        " | blocking-call findings |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        speed = f"{baseline / t.median:.1f}x"
        rows.append(
            f"| {t.tool} | {t.mode} | {t.median:.2f} | {len(t.seconds)} | {speed} | "
            f"{t.findings} | {t.blocking} |"
        )
    header = [
        "# soni-audit benchmark",
        "",
        f"Corpus: {files:,} files, {lines:,} lines ({', '.join(corpus)}).",
        f"Machine: {machine()}; every tool run with {jobs} jobs.",
        "soni-audit runs all its rules; flake8-async and ruff run `--select ASYNC` (their",
        "blocking-call rules are ASYNC2xx; the other ASYNC rules check cancellation and",
        "checkpoints, which soni-audit does not).",
        "cold = empty cache, warm = second run over unchanged files.",
        "",
    ]
    return "\n".join(header + rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="an installed corpus to reuse")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, help="also write the markdown table here")
    parser.add_argument(
        "--baseline", metavar="REV", help="also time soni-audit as it was at this git revision"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as scratch:
        corpus = args.corpus or Path(scratch) / "corpus"
        if args.corpus is None:
            install_corpus(corpus)
        files, lines = corpus_size(corpus)
        print(f"corpus: {files} files, {lines} lines", file=sys.stderr)
        with ExitStack() as stack:
            baseline = (
                stack.enter_context(worktree(args.baseline, Path(scratch) / "baseline"))
                if args.baseline
                else None
            )
            timings = measure(corpus, args.jobs, args.repeat, baseline)
        table = render(timings, files, lines, args.jobs, versions(corpus))
        if args.baseline:
            table += f"\nbaseline = soni-audit at git revision `{args.baseline}`.\n"
    emit(table, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
