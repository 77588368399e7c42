"""The watchdog where it is meant to live: the pytest plugin and an ASGI lifespan."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from audit.profiling.asgi import LoopWatchdogMiddleware
from audit.profiling.blocks import Block
from tests.conftest import BUSY_MACHINE_MS

# A 10 ms threshold beats every 2 ms: a block is known to a beat (and a millisecond of
# bookkeeping); on a busy machine the loop's next beat may come later still, and the beat's
# period (an average of the gaps, half of which is taken off a block) grows.
BELOW_MS, ABOVE_MS = 2.0 + BUSY_MACHINE_MS / 4, 2.0 + BUSY_MACHINE_MS

TESTS = """
import time
import pytest

async def test_blocks():
    time.sleep(0.03)

@pytest.mark.allow_loop_block
async def test_blocks_but_allowed():
    time.sleep(0.03)

async def test_clean():
    import asyncio
    await asyncio.sleep(0.03)

async def test_offloaded():
    import asyncio
    await asyncio.to_thread(time.sleep, 0.03)

def test_sync_code_is_not_a_loop():
    time.sleep(0.03)
"""


def test_pytest_plugin_tags_and_fails_blocking_tests(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n", encoding="utf-8")
    report = tmp_path / "blocks.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "audit.profiling.pytest_plugin",
            "--loop-block-threshold-ms",
            "10",
            "--loop-block-fail",
            "--loop-block-report",
            str(report),
            "-p",
            "no:cacheprovider",
            "-rA",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = completed.stdout
    assert completed.returncode == 1, out
    assert "FAILED test_sample.py::test_blocks - blocked the event loop: " in out
    for name in ("test_blocks_but_allowed", "test_clean", "test_offloaded", "test_sync_code"):
        assert f"PASSED test_sample.py::{name}" in out, out
    assert "event-loop blocks" in out
    assert "test_sample.py:6 test_blocks: 1x" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    labels = sorted(label for site in data["sites"] for label in site["labels"])
    assert labels == ["test_sample.py::test_blocks", "test_sample.py::test_blocks_but_allowed"]
    durations = [b["duration_ms"] for site in data["sites"] for b in site["blocks"]]
    assert all(30 - BELOW_MS <= d <= 30 + ABOVE_MS for d in durations), durations


def test_asgi_middleware_watches_the_app_lifetime(tmp_path: Path) -> None:
    blocks: list[Block] = []
    report = tmp_path / "asgi.json"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        else:
            time.sleep(0.025)  # noqa: ASYNC251 -- a handler that blocks the loop, on purpose
            await send({"type": "http.response.start", "status": 200, "headers": []})

    middleware = LoopWatchdogMiddleware(
        app,
        threshold_ms=10,
        project_root=Path(__file__).parent,
        on_block=blocks.append,
        report=report,
    )

    async def serve() -> list[str]:
        inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        sent: list[str] = []

        async def send(message: Any) -> None:
            sent.append(message["type"])

        lifespan = asyncio.create_task(middleware({"type": "lifespan"}, inbox.get, send))
        await inbox.put({"type": "lifespan.startup"})
        await asyncio.sleep(0.02)
        await middleware({"type": "http"}, inbox.get, send)
        await asyncio.sleep(0.02)
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan
        return sent

    sent = asyncio.run(serve())
    assert sent == [
        "lifespan.startup.complete",
        "http.response.start",
        "lifespan.shutdown.complete",
    ]
    assert len(blocks) == 1
    assert 25 - BELOW_MS <= blocks[0].duration * 1000 <= 25 + ABOVE_MS
    assert blocks[0].stack[-1].function.endswith("app")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["summary"]["blocks"] == 1
    assert data["sources"] == ["watchdog"]
