"""An actions module's `lifespan`: entered when the runtime starts, left when it closes,
never an action itself; the banking example keeps one connection open with it."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from pathlib import Path

import pytest

from soni.config import load_config
from soni.config.models import PersistenceSettings
from soni.errors import ConfigErrors
from soni.examples.banking import DOMAIN, actions
from soni.runtime import RuntimeLoop

DOMAIN_TEXT = """\
version: "1"
settings: {actions: actions}
slots:
  amount: {type: amount, prompt: "How much?"}
flows:
  pay:
    description: Pay
    trigger: {phrases: ["pay"]}
    steps:
      - {id: ask, collect: amount}
      - {id: record, action: record}
      - {id: tell, say: "Paid."}
"""

ACTIONS = """\
import os
from contextlib import asynccontextmanager

LOG = os.environ["LIFESPAN_LOG"]

def _note(line):
    with open(LOG, "a") as log:
        log.write(line + "\\n")

@asynccontextmanager
async def lifespan():
    _note("open")
    try:
        yield
    finally:
        _note("close")

async def record(amount):
    _note(f"record {amount}")
    return {}
"""


def _domain(tmp_path: Path, actions_text: str) -> Path:
    (tmp_path / "actions.py").write_text(textwrap.dedent(actions_text), encoding="utf-8")
    path = tmp_path / "domain.yaml"
    path.write_text(DOMAIN_TEXT, encoding="utf-8")
    return path


async def test_the_runtime_enters_the_lifespan_around_its_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "lifespan.log"
    monkeypatch.setenv("LIFESPAN_LOG", str(log))
    config = load_config(_domain(tmp_path, ACTIONS))
    assert config.actions.names == ("record",)  # `lifespan` is not an action
    async with RuntimeLoop(config, persistence=PersistenceSettings(backend="memory")) as runtime:
        await runtime.process_message("ann", "pay")
        await runtime.process_message("ann", "12")
        assert log.read_text().splitlines() == ["open", "record 12"]
    assert log.read_text().splitlines() == ["open", "record 12", "close"]


def test_a_lifespan_that_is_not_callable_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFESPAN_LOG", str(tmp_path / "log"))
    with pytest.raises(ConfigErrors) as caught:
        load_config(_domain(tmp_path, ACTIONS + "\nlifespan = 3\n"))
    (error,) = caught.value.errors
    assert "settings.actions" in str(error)
    assert "lifespan must be an async context manager factory" in str(error)


async def test_a_lifespan_that_is_not_a_context_manager_fails_startup_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFESPAN_LOG", str(tmp_path / "log"))
    plain = ACTIONS.replace("@asynccontextmanager\n", "")
    config = load_config(_domain(tmp_path, plain))
    with pytest.raises(TypeError, match="expected an async context manager"):
        async with RuntimeLoop(config, persistence=PersistenceSettings(backend="memory")):
            pass


async def test_banking_actions_share_one_connection_and_close_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fifty users at once on the runtime's one connection: every transfer is applied whole,
    and closing the runtime ends the connection's thread (else the process would not exit)."""
    monkeypatch.setenv("SONI_BANKING_DB", str(tmp_path / "bank.db"))
    before = set(threading.enumerate())
    persistence = PersistenceSettings(backend="memory")
    async with RuntimeLoop(DOMAIN, persistence=persistence) as runtime:
        assert len(_connection_threads()) == 1

        async def transfer(user: str) -> str:
            await runtime.process_message(user, "send 20 to Bob")
            return (await runtime.process_message(user, "yes")).reply

        replies = await asyncio.gather(*(transfer(f"user-{n}") for n in range(50)))
        assert all("TX-" in reply for reply in replies), replies
        assert len(_connection_threads()) == 1  # still that one
    assert await actions.get_balance("checking") == {"balance": 2500.0 - 50 * 20}
    for thread in set(_connection_threads()) - before:
        thread.join(timeout=5)
        assert not thread.is_alive(), thread


def _connection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]
