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
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGES = (
    "fastapi",
    "starlette",
    "langgraph",
    "langchain-core",
    "langgraph-checkpoint",
    "langgraph-prebuilt",
)
SOURCES = ("fastapi", "starlette", "langgraph", "langchain_core")


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


def install_corpus(target: Path) -> None:
    pip_install(PACKAGES, target)


def pip_install(packages: Sequence[str], target: Path) -> None:
    """Pinned packages, without their dependencies, into a scratch directory."""
    print(f"installing {' '.join(packages)} into {target} ...", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            *packages,
        ],
        check=True,
    )


def corpus_size(corpus: Path) -> tuple[int, int]:
    files = [p for source in SOURCES for p in (corpus / source).rglob("*.py")]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return len(files), lines


def versions(corpus: Path) -> list[str]:
    found = []
    for info in sorted(corpus.glob("*.dist-info")):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found.append(f"{name} {version}")
    return found


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _timed(command: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({result.returncode}):\n{result.stderr}")
    return elapsed, result.stdout


def measure(corpus: Path, jobs: int, repeat: int, baseline: Path | None = None) -> list[Timing]:
    soni = [_bin("soni-audit"), "check", "--jobs", str(jobs), "--format", "json", *SOURCES]
    flake8 = [_bin("flake8"), "--select", "ASYNC", "-j", str(jobs), *SOURCES]
    ruff = [
        _bin("ruff"),
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
    import json

    for _ in range(repeat):
        shutil.rmtree(cache, ignore_errors=True)
        for mode in ("cold", "warm"):
            seconds, output = _timed(soni, corpus)
            timings["soni-audit", mode].seconds.append(seconds)
            found = json.loads(output)["findings"]
            timings["soni-audit", mode].findings = len(found)
            timings["soni-audit", mode].blocking = sum(f["code"].startswith("BLK1") for f in found)
        if baseline is not None:
            shutil.rmtree(cache, ignore_errors=True)
            command = [*soni_audit_at(baseline), *soni[1:]]
            for mode in ("cold", "warm"):
                seconds, output = _timed(command, corpus)
                found = json.loads(output)["findings"]
                row = timings["soni-audit @ baseline", mode]
                row.seconds.append(seconds)
                row.findings = len(found)
                row.blocking = sum(f["code"].startswith("BLK1") for f in found)
        seconds, output = _timed(flake8, corpus)
        timings["flake8-async", "-"].seconds.append(seconds)
        timings["flake8-async", "-"].findings = len(output.splitlines())
        timings["flake8-async", "-"].blocking = output.count(" ASYNC2")
        shutil.rmtree(ruff_cache, ignore_errors=True)
        for mode in ("cold", "warm"):
            seconds, output = _timed([*ruff, *(["--no-cache"] if mode == "cold" else [])], corpus)
            timings["ruff", mode].seconds.append(seconds)
            timings["ruff", mode].findings = output.count(": ASYNC")
            timings["ruff", mode].blocking = output.count(": ASYNC2")
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(ruff_cache, ignore_errors=True)
    return list(timings.values())


_RUN_FROM = (
    "import sys; sys.path.insert(0, {path!r}); sys.argv[0] = 'soni-audit'; "
    "from audit.cli import main; sys.exit(main())"
)
REPO = Path(__file__).resolve().parent.parent


def soni_audit_at(engine: Path) -> list[str]:
    """The command that runs soni-audit from an earlier work tree of this repository."""
    return [sys.executable, "-c", _RUN_FROM.format(path=str(engine))]


def emit(text: str, output: Path | None) -> None:
    """Print a report, and write it to `output` too when given."""
    print(text, end="")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


def audit_findings(
    paths: Sequence[str], select: str, cwd: Path, command: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The findings of one `soni-audit check` run in `cwd` (JSON, no cache), by this
    checkout's engine unless `command` names another (`soni_audit_at`)."""
    result = subprocess.run(
        [
            *(command or (sys.executable, "-m", "audit")),
            *("check", "--no-cache", "--exit-zero", "--format", "json"),
            *("--select", select, *paths),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"soni-audit failed ({result.returncode}):\n{result.stderr}")
    found: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return found


@contextmanager
def worktree(revision: str, target: Path) -> Iterator[Path]:
    """A work tree of this repository at `revision` (an earlier engine), removed after."""
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(target), revision],
        check=True,
        capture_output=True,
    )
    try:
        yield target
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(target)], check=False
        )


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
        f"Machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores; every tool run with {jobs} jobs.",
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
