"""How precisely each run-time harness measures the blocks of the purpose-built workload.

Runs `tests/fixtures/profiling/workload.py` (sleep, file read, SQLite, CPU loop, GIL-holding
regex, each 20-50 ms and measured by the workload itself; a 3 ms block and offloaded calls
that must not be reported) `--runs` times per harness and loop: the watchdog at each
`--intervals` beat and py-spy at 1000 Hz (when ptrace allows). Per harness: blocks found and
missed, reports at unmarked lines, and the error of each found block's duration.
Writes `reports/profiling-accuracy.md`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report import publish
from harness.workload import (
    ROOT,
    Durations,
    blocks_by_name,
    pyspy_problem,
    sites_by_name,
    truth_by_name,
    workload_command,
)

LOOPS = ("asyncio", "uvloop")


@dataclass
class Tally:
    harness: str
    loop: str
    interval_ms: float | None = None  # the watchdog's beat; None: py-spy
    expected: int = 0
    missed: int = 0
    false_sites: int = 0
    errors: list[float] = field(default_factory=list)

    def add(self, found: Durations, unknown: list[Any], truth: Path) -> None:
        measured = truth_by_name(truth)
        measured.pop("short", None)
        self.false_sites += len(unknown)
        for name, durations in measured.items():
            self.expected += len(durations)
            seen = found.get(name, [])
            if len(seen) != len(durations):  # a block split, merged or lost: count as missed
                self.missed += len(durations)
                continue
            self.errors += [abs(a - b) for a, b in zip(seen, durations, strict=True)]


def _watchdog(interval: float, loop: str, work: Path) -> tuple[Durations, list[Any]]:
    out = work / "watchdog.json"
    command = workload_command(work / "truth.json", "--watchdog", str(out), loop=loop)
    command += ["--watchdog-interval-ms", str(interval)]
    subprocess.run(command, check=True, timeout=120)
    return blocks_by_name(json.loads(out.read_text(encoding="utf-8")))


def _pyspy(loop: str, work: Path) -> tuple[Durations, list[Any]]:
    command = [sys.executable, "-m", "audit", "profile", "--rate", "1000", "--root", str(ROOT)]
    command += ["--out", str(work), "--no-static", "--exit-zero", "--"]
    command += workload_command(work / "truth.json", loop=loop)
    subprocess.run(command, check=True, timeout=180, capture_output=True)
    return sites_by_name(json.loads((work / "profile.json").read_text(encoding="utf-8"))["sites"])


def rows(tallies: list[Tally], tolerance_ms: float) -> list[dict[str, object]]:
    """One row of the report per harness and loop."""
    return [
        {
            "harness": tally.harness,
            "loop": tally.loop,
            "expected": tally.expected,
            "found": tally.expected - tally.missed,
            "false_sites": tally.false_sites,
            "mean": statistics.fmean(tally.errors) if tally.errors else 0.0,
            "p95": sorted(tally.errors)[int(0.95 * (len(tally.errors) - 1))]
            if tally.errors
            else 0.0,
            "max": max(tally.errors, default=0.0),
            "within": sum(error <= tolerance_ms for error in tally.errors),
        }
        for tally in tallies
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--intervals", type=float, nargs="+", default=[1.0, 2.0, 4.0])
    parser.add_argument("--tolerance-ms", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=Path("reports/profiling-accuracy.md"))
    args = parser.parse_args()
    skipped = pyspy_problem()
    tallies: list[Tally] = []
    for loop in LOOPS:
        for interval in args.intervals:
            tallies.append(Tally(f"watchdog, {interval:g} ms beat", loop, interval))
        if skipped is None:
            tallies.append(Tally("py-spy 1000 Hz", loop))
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        for run in range(args.runs):
            for tally in tallies:
                if tally.interval_ms is None:
                    found, unknown = _pyspy(tally.loop, work)
                else:
                    found, unknown = _watchdog(tally.interval_ms, tally.loop, work)
                tally.add(found, unknown, work / "truth.json")
            print(f"run {run + 1} of {args.runs} done", file=sys.stderr)
    publish(
        "profiling-accuracy.md.j2",
        args.out,
        rows=rows(tallies, args.tolerance_ms),
        args=args,
        skipped=skipped,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
