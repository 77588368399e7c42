"""RuntimeLoop owns its resources: everything it opens is closed on exit, also on errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from soni.config import SoniConfig
from soni.errors import ConfigErrors
from soni.runtime import RuntimeLoop
from tests.soni.conftest import FixedClock, talk


def _open_files() -> set[str]:
    descriptors = Path("/proc/self/fd")
    found = set()
    for fd in descriptors.iterdir():
        try:
            found.add(os.readlink(fd))
        except OSError:
            continue
    return {target for target in found if target.endswith((".db", ".db-wal", ".db-shm"))}


async def test_exit_closes_the_sqlite_checkpointer(config: SoniConfig) -> None:
    before = _open_files()
    async with RuntimeLoop(config, clock=FixedClock()) as runtime:
        await talk(runtime, "u1", "send money")
        assert _open_files() - before  # the database is open while running
        assert runtime.ready
    assert _open_files() == before
    assert not runtime.ready


async def test_an_error_inside_the_block_still_closes_everything(config: SoniConfig) -> None:
    before = _open_files()

    async def failing_handler() -> None:
        async with RuntimeLoop(config, clock=FixedClock()) as runtime:
            await talk(runtime, "u1", "send money")
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError, match="handler failed"):
        await failing_handler()
    assert _open_files() == before


async def test_a_failing_startup_closes_what_it_opened(
    config: SoniConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import soni.runtime.loop as loop_module

    def broken_graph() -> object:
        raise RuntimeError("graph failed to build")

    monkeypatch.setattr(loop_module, "build_graph", broken_graph)
    before = _open_files()
    with pytest.raises(RuntimeError, match="graph failed to build"):
        async with RuntimeLoop(config):
            pass
    assert _open_files() == before


async def test_a_bad_configuration_fails_at_startup_with_located_errors(tmp_path: Path) -> None:
    path = tmp_path / "domain.yaml"
    path.write_text('version: "1"\nflows:\n  x:\n    steps: [{id: a, collect: nope}]\n')
    with pytest.raises(
        ConfigErrors, match=r"domain.yaml:4: flows.x.steps\[0\].collect: unknown slot 'nope'"
    ):
        async with RuntimeLoop(path):
            pass


def test_soni_chat_in_a_terminal(tmp_path: Path) -> None:
    script = (
        "\n".join(["hello", "what is my balance", "savings", "/state", "/reset", "/quit"]) + "\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "soni.cli", "chat"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SONI_BANKING_DB": str(tmp_path / "bank.db")},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert output.startswith(
        "soni: I can help with: Check an account balance, Send money to someone"
    )
    assert "bot> Hello! How can I help you?" in output
    assert "bot> Which account: checking or savings?" in output
    assert "bot> Your savings balance is 12,000.00." in output
    assert "UserState(turn=3" in output
    assert "(conversation reset)" in output


def test_soni_chat_reports_a_bad_configuration(tmp_path: Path) -> None:
    path = tmp_path / "domain.yaml"
    path.write_text('version: "1"\nflows: {x: {steps: [{id: a, say: hi, bogus: 1}]}}\n')
    result = subprocess.run(
        [sys.executable, "-m", "soni.cli", "chat", "--config", str(path)],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "domain.yaml:2: flows.x.steps[0].bogus: unknown key 'bogus'" in result.stderr
