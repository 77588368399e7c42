"""The banking example's actions under concurrency: no "database is locked", right balances.

Many first calls at once on one database (a server start) used to fail at once with
"database is locked": the unread `pragma journal_mode=wal` row kept a read transaction open,
and SQLite does not wait for the write lock on behalf of a connection that already reads."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from soni.examples.banking import actions

TASKS = 50
ROUNDS = 6  # each task: balance, transfer, card block, twice


async def _hammer() -> int:
    """TASKS concurrent users, ROUNDS actions each; the transfers made."""

    async def user(index: int) -> int:
        transfers = 0
        for step in range(ROUNDS):
            kind = (index + step) % 3
            if kind == 0:
                assert (await actions.get_balance("checking"))["balance"] <= 2500.0
            elif kind == 1:
                assert (await actions.execute_transfer(1.0, "Bob"))["tx_id"].startswith("TX-")
                transfers += 1
            else:
                assert (await actions.block_card("1234"))["reference"].startswith("BLK-")
        return transfers

    return sum(await asyncio.gather(*(user(index) for index in range(TASKS))))


async def test_concurrent_first_use_of_a_new_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SONI_BANKING_DB", str(tmp_path / "bank.db"))
    transfers = await _hammer()
    assert (await actions.get_balance("checking")) == {"balance": 2500.0 - transfers}
    assert (await actions.get_balance("savings")) == {"balance": 12000.0}


async def test_concurrent_first_use_of_an_existing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SONI_BANKING_DB", str(tmp_path / "bank.db"))
    first = await _hammer()
    monkeypatch.setattr(actions, "_ready", set())  # as a restarted server, or another replica
    second = await _hammer()
    assert (await actions.get_balance("checking")) == {"balance": 2500.0 - first - second}


async def test_a_failed_setup_closes_its_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left open, the connection's non-daemon thread would keep the process from exiting."""

    async def broken(connection: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setenv("SONI_BANKING_DB", str(tmp_path / "bank.db"))
    monkeypatch.setattr(actions, "_set_up", broken)
    before = set(threading.enumerate())
    with pytest.raises(OSError, match="disk on fire"):
        await actions.get_balance("checking")
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)
        assert not thread.is_alive(), thread
