"""A scripted chat-completions server on 127.0.0.1 for the session, and the banking example
with `settings.understanding` pointing at it."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from harness.chat_server import ScriptedChatServer
from soni.config import load_config
from soni.core.types import CommandGenerator
from soni.du.backends import open_generator
from soni.examples.banking import DOMAIN as BANKING
from tests.soni.conftest import FixedClock

KEY_VARIABLE = "SONI_TEST_LLM_KEY"
KEY = "sk-test-4f9c1e7a2b8d4c6e9f0a1b2c3d4e5f60"
"""A made-up key: what must never appear in logs, states or checkpoints."""


@pytest.fixture(scope="session")
def chat_server() -> Iterator[ScriptedChatServer]:
    with ScriptedChatServer() as server:
        yield server


@pytest.fixture
def model(chat_server: ScriptedChatServer) -> Iterator[ScriptedChatServer]:
    """The session's chat server, with no replies queued and no requests kept."""
    chat_server.reset()
    yield chat_server
    chat_server.reset()


def banking_with(target: Path, **understanding: Any) -> Path:
    """A copy of the banking example in `target` whose `settings.understanding` is
    `understanding`; its domain.yaml."""
    shutil.copytree(BANKING.parent, target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    config = target / "domain.yaml"
    text = config.read_text(encoding="utf-8")
    line = f"settings:\n  understanding: {json.dumps(understanding)}\n"
    config.write_text(text.replace("settings:\n", line, 1), encoding="utf-8")
    return config


def assert_not_stored(directory: Path, key: str) -> None:
    """Neither the checkpoint database nor its WAL holds `key`."""
    stored = list(directory.glob("state.db*"))
    assert stored
    for path in stored:
        assert key.encode() not in path.read_bytes(), path


def settings(server: ScriptedChatServer, backend: str = "llm", **more: Any) -> dict[str, Any]:
    return {
        "backend": backend,
        "model": "scripted",
        "base_url": server.url,
        "api_key_env": KEY_VARIABLE,
        "timeout_s": 5,
        **more,
    }


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    return KEY


async def generator_for(config: Path, resources: AsyncExitStack) -> CommandGenerator:
    """The generator the runtime builds for `config` (its client closed with `resources`)."""
    domain = load_config(config).domain
    return await open_generator(domain, FixedClock(), resources)


@pytest.fixture
async def resources() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack
