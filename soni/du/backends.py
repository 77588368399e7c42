"""The understanding component a configuration asks for (`settings.understanding.backend`),
built once when the runtime starts.

`rules` builds the rules alone, as before. `llm` and `hybrid` also import the model client
(`soni.du.llm.client`, which imports `openai`) and build it, both in worker threads: the
import takes seconds and the client's constructor loads certificates. The client is closed
with `resources`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from soni.config.models import Domain
from soni.config.understanding import EXTRA_HINT, UnderstandingSettings
from soni.core.types import Clock, CommandGenerator
from soni.du.generator import RuleBasedCommandGenerator
from soni.du.llm.generator import ModelCommandGenerator, ModelReader
from soni.du.llm.model import ChatModel
from soni.errors import ConfigError

Opener = Callable[[UnderstandingSettings, AsyncExitStack], Awaitable[ChatModel]]


async def open_generator(
    domain: Domain, clock: Clock, resources: AsyncExitStack
) -> CommandGenerator:
    # building the rules' indexes (typo deletions, slot words) is CPU: off the loop
    rules = await asyncio.to_thread(RuleBasedCommandGenerator, domain, clock)
    settings = domain.settings.understanding
    if settings.backend == "rules":
        return rules
    opener = await asyncio.to_thread(_model_opener)
    model = await opener(settings, resources)
    reader = ModelReader(
        model,
        rules,
        clock,
        max_retries=settings.max_retries,
        history_turns=settings.history_turns,
    )
    return ModelCommandGenerator(rules, reader, settings.backend)


def _model_opener() -> Opener:
    """`open_chat_model`, importing the client (and `openai`) on first use."""
    try:
        from soni.du.llm.client import open_chat_model
    except ImportError as error:
        raise ConfigError(
            f"a model backend needs the openai package ({error}): {EXTRA_HINT}",
            field="settings.understanding.backend",
        ) from error
    return open_chat_model
