"""pytest plugin: watch every event loop the tests run, tag blocks with the test id.

    pytest -p audit.profiling.pytest_plugin --loop-block-threshold-ms 10 [--loop-block-fail]
        [--loop-block-report profile.json]

Every loop made through the event-loop policy (pytest-asyncio's, `asyncio.run`) is watched
by one `LoopWatchdog`. With `--loop-block-fail` a test whose setup or body blocked a loop
fails, unless it carries `@pytest.mark.allow_loop_block`. `--loop-block-report` writes the
normalised findings JSON that `soni-audit profile --from` reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from audit.profiling.attribution import project_frame
from audit.profiling.blocks import Block
from audit.profiling.findings import write_blocks
from audit.profiling.frames import ProjectFiles
from audit.profiling.sites import group_sites
from audit.profiling.watchdog import LoopWatchdog

_KEY = pytest.StashKey["_LoopBlocks"]()


class _WatchingPolicy(asyncio.AbstractEventLoopPolicy):
    """Delegates to the policy it wraps; every new loop is watched."""

    def __init__(self, base: asyncio.AbstractEventLoopPolicy, dog: LoopWatchdog) -> None:
        self.base = base
        self.dog = dog

    def get_event_loop(self) -> asyncio.AbstractEventLoop:
        return self.base.get_event_loop()

    def set_event_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.base.set_event_loop(loop)

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = self.base.new_event_loop()
        self.dog.watch(loop)
        return loop

    def get_child_watcher(self) -> Any:
        return self.base.get_child_watcher()

    def set_child_watcher(self, watcher: Any) -> None:
        self.base.set_child_watcher(watcher)


class _LoopBlocks:
    def __init__(self, config: pytest.Config, threshold_ms: float) -> None:
        self.config = config
        self.dog = LoopWatchdog(threshold_ms=threshold_ms, project_root=config.rootpath)
        self.base = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(_WatchingPolicy(self.base, self.dog))

    def close(self) -> None:
        self.dog.stop()
        asyncio.set_event_loop_policy(self.base)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("loop-blocks", "event-loop blocks (soni-audit watchdog)")
    group.addoption(
        "--loop-block-threshold-ms",
        type=float,
        default=None,
        help="watch every event loop and report stretches of at least this many ms",
    )
    group.addoption(
        "--loop-block-fail", action="store_true", help="fail tests that block an event loop"
    )
    group.addoption(
        "--loop-block-report", type=Path, default=None, help="write the blocks as profile JSON"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_loop_block: this test may block the event loop (not failed for it)"
    )
    threshold = config.getoption("--loop-block-threshold-ms")
    if threshold is None and (
        config.getoption("--loop-block-fail") or config.getoption("--loop-block-report")
    ):
        threshold = 10.0
    if threshold is not None:
        config.stash[_KEY] = _LoopBlocks(config, threshold)  # the stash: plugin storage


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_KEY, None)
    if state is not None:
        state.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    state = item.config.stash.get(_KEY, None)
    if state is not None:
        state.dog.label = item.nodeid  # our watchdog, kept in the stash
    try:
        return (yield)
    finally:
        if state is not None:
            state.dog.flush()
            state.dog.label = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = item.config.stash.get(_KEY, None)
    if state is None or call.when == "teardown":
        return report
    state.dog.flush()
    mine = [b for b in state.dog.blocks if b.label == item.nodeid and b not in _seen(item)]
    _seen(item).update(mine)
    if not mine:
        return report
    lines = [_describe(block, state.dog.project) for block in mine]
    report.sections.append(("event-loop blocks", "\n".join(lines)))
    failing = state.config.getoption("--loop-block-fail") and not item.get_closest_marker(
        "allow_loop_block"
    )
    if failing and report.passed:
        report.outcome = "failed"
        report.longrepr = "blocked the event loop: " + "; ".join(lines)
    return report


_SEEN = pytest.StashKey[set[Block]]()


def _seen(item: pytest.Item) -> set[Block]:
    return item.stash.setdefault(_SEEN, set())  # noqa: MUT102 -- the stash is for plugins


def _describe(block: Block, project: ProjectFiles) -> str:
    frame = project_frame(block.stack, project)
    return (
        f"{block.duration * 1000:.1f} ms at {project.relative(frame.file)}:{frame.line} "
        f"in {frame.function}"
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(_KEY, None)
    if state is None:
        return
    state.dog.flush()
    project = state.dog.project
    sites = group_sites(state.dog.blocks, project)
    terminalreporter.section("event-loop blocks")
    if not sites:
        terminalreporter.line(f"no block of {state.dog.threshold * 1000:g} ms or more")
    for site in sites:
        frame = site.place.frame
        terminalreporter.line(
            f"{project.relative(frame.file)}:{frame.line} {frame.function}: {site.count}x, "
            f"max {site.max * 1000:.1f} ms ({', '.join(site.labels)})"
        )
    out = config.getoption("--loop-block-report")
    if out is not None:
        write_blocks(
            out, state.dog.blocks, project=project, threshold=state.dog.threshold, command="pytest"
        )
        terminalreporter.line(f"wrote {out}")
