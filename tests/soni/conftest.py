"""Shared fixtures: the test domain in a scratch directory, a fixed clock, a runtime."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soni.config import SoniConfig, load_config
from soni.runtime import RuntimeLoop

DOMAIN = Path(__file__).with_name("domain")
TODAY = datetime.date(2026, 11, 25)  # a Wednesday


class FixedClock:
    def today(self) -> datetime.date:
        return TODAY


@pytest.fixture
def domain_dir(tmp_path: Path) -> Path:
    target = tmp_path / "domain"
    shutil.copytree(DOMAIN, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def config(domain_dir: Path) -> SoniConfig:
    return load_config(domain_dir / "domain.yaml")


@pytest.fixture
async def runtime(config: SoniConfig) -> AsyncIterator[RuntimeLoop]:
    async with RuntimeLoop(config, clock=FixedClock()) as loop:
        yield loop


async def talk(runtime: RuntimeLoop, user: str, *messages: str) -> list[str]:
    """The bot's replies to each message in turn."""
    return [(await runtime.process_message(user, message)).reply for message in messages]
