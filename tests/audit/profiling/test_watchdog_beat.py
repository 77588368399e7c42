"""The beat interval: derived from the threshold, and a block's duration known to half a beat."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit.profiling.watchdog import LoopWatchdog, default_interval_ms, entering
from tests.conftest import BUSY_MACHINE_MS


@pytest.mark.parametrize(
    ("threshold_ms", "interval_ms"),
    [(2.0, 1.0), (5.0, 1.0), (10.0, 2.0), (20.0, 4.0), (25.0, 5.0), (100.0, 5.0)],
)
def test_default_interval_is_a_fifth_of_the_threshold_within_1_to_5_ms(
    threshold_ms: float, interval_ms: float
) -> None:
    assert default_interval_ms(threshold_ms) == interval_ms
    assert LoopWatchdog(threshold_ms=threshold_ms).interval == interval_ms / 1000


def _blocking_work(seconds: float) -> float:
    started = time.perf_counter()
    time.sleep(seconds)
    return (time.perf_counter() - started) * 1000


@pytest.mark.parametrize("interval_ms", [1.0, 2.0, 4.0])
def test_block_duration_is_known_to_half_a_beat(interval_ms: float) -> None:
    async def scenario() -> tuple[list[float], list[float]]:
        measured = []
        async with LoopWatchdog(
            threshold_ms=10, interval_ms=interval_ms, project_root=Path(__file__).parent
        ) as dog:
            await asyncio.sleep(0.05)
            for pause in (0.0, 0.0013, 0.0027):  # blocks start at different beat phases
                await asyncio.sleep(0.02 + pause)
                measured.append(_blocking_work(0.025))
            await asyncio.sleep(0.02)
        return measured, [block.duration * 1000 for block in dog.blocks]

    measured, reported = asyncio.run(scenario())
    assert len(reported) == len(measured), (reported, measured)
    # Known to half a beat on an idle machine. On a busy one the loop's next beat can come
    # late (the block looks longer), and the beat's period, an average of the gaps between
    # beats, grows toward the threshold (half of it is taken off: the block looks shorter).
    half_beat = interval_ms / 2 + 1.0
    for seen, true in zip(reported, measured, strict=True):
        late = seen - true
        assert -(half_beat + BUSY_MACHINE_MS / 4) <= late <= half_beat + BUSY_MACHINE_MS, (
            reported,
            measured,
        )


def test_a_frame_at_its_first_line_is_entering_not_working() -> None:
    def body() -> Iterator[int]:
        yield 1

    fresh = body()  # created, not started: stands at its `def` line
    assert entering(fresh.gi_frame)
    next(fresh)
    assert not entering(fresh.gi_frame)
    assert not entering(sys._getframe())
    assert not entering(None)
