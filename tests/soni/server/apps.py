"""App factories the tests run under a real uvicorn (`uvicorn --factory ...`)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from fastapi import FastAPI

from soni.config import load_config
from soni.core.commands import Command
from soni.core.types import UnderstandingContext
from soni.du.clock import SystemClock
from soni.du.generator import RuleBasedCommandGenerator
from soni.runtime import RuntimeLoop
from soni.server import RuntimeHost, create_app
from soni.server.security import Security


class CrashOnCue:
    """The rule-based generator, except that "crash" raises like a bug would."""

    def __init__(self, inner: RuleBasedCommandGenerator) -> None:
        self.inner = inner

    async def generate(self, message: str, context: UnderstandingContext) -> Sequence[Command]:
        if message == "crash":
            raise RuntimeError("secret internal detail")
        return await self.inner.generate(message, context)


def crashing() -> FastAPI:
    config = load_config(os.environ["SONI_CONFIG"])
    generator = CrashOnCue(RuleBasedCommandGenerator(config.domain, SystemClock()))
    host = RuntimeHost(
        config, runtime_factory=lambda source: RuntimeLoop(source, generator=generator)
    )
    return create_app(host=host, security=Security.insecure())
