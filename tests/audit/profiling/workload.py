"""What each run-time harness must find in the purpose-built workload."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from harness.workload import truth_by_name, workload_command
from tests.conftest import BUSY_MACHINE_MS, PAUSE_MS

MUST_FIND_MS = 15.0  # every block at least this long is found
TOLERANCE_MS = 3.0  # a harness's own error on an idle machine (reports/profiling-accuracy.md)
SAMPLES_LOST = 0.05  # of a block's length, a sampler starved of a core may miss


def run_workload(*extra: str, truth: Path, loop: str = "asyncio", rounds: int = 3) -> None:
    subprocess.run(
        workload_command(truth, *extra, loop=loop, rounds=rounds), check=True, timeout=120
    )


def check_sites(
    found: dict[str, list[float]], unknown: list[Any], truth: Path, *, per_block: bool
) -> None:
    """`found`: block durations (ms) per block name, in time order; `unknown`: sites at
    unmarked lines. `per_block` compares every block with its measurement, otherwise the
    mean per site (a sampler's error on one block can reach one sampling gap).

    On a busy machine a watchdog sees a block end when its loop gets a core again (up to
    `BUSY_MACHINE_MS` longer), and its beat's period, half of which it takes off a block,
    grows (a little shorter). A sampler starved of a core misses the start or the end of a
    block: its site mean can be off either way."""
    assert unknown == [], f"false sites: {unknown}"
    measured = truth_by_name(truth)
    # ~3 ms, under the threshold; on a busy machine it can last a pause (then it is one)
    assert max(measured.pop("short")) <= PAUSE_MS, "the short block is meant to be ~3 ms"
    for name, durations in measured.items():
        if min(durations) < MUST_FIND_MS:
            # On a busy machine the workload can be late to its own block (the fifo's writer
            # has written by the time it reads): a block that short may or may not be seen,
            # so only the count is judged.
            long_ones = sum(true >= MUST_FIND_MS for true in durations)
            seen = found.get(name, [])
            assert long_ones <= len(seen) <= len(durations), (name, seen, durations)
            continue
        assert name in found, f"{name} ({durations} ms) not found; found {sorted(found)}"
        assert len(found[name]) == len(durations), (name, found[name], durations)
        if per_block:
            for seen, true in zip(found[name], durations, strict=True):
                late = seen - true
                # shorter too: the beat's period, an average of the gaps, grows when busy
                early = TOLERANCE_MS + BUSY_MACHINE_MS / 4
                assert -early <= late <= TOLERANCE_MS + BUSY_MACHINE_MS, (
                    name,
                    found[name],
                    durations,
                )
        else:
            mean_found = sum(found[name]) / len(found[name])
            mean_true = sum(durations) / len(durations)
            # a starved sampler also loses samples inside long blocks (240 ms seen 8 ms short)
            allowed = TOLERANCE_MS + BUSY_MACHINE_MS / 2 + SAMPLES_LOST * mean_true
            off = abs(mean_found - mean_true)
            assert off <= allowed, (name, found[name], durations)
