"""`soni chat`: a terminal conversation with a domain (the banking example by default)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from soni.config.models import PersistenceSettings
from soni.errors import SoniError
from soni.examples.banking import DOMAIN
from soni.runtime.loop import RuntimeLoop

COMMANDS = "/reset starts over, /state shows the conversation, /quit leaves"


async def chat(config: Path | None, user: str, state: Path | None) -> int:
    persistence = PersistenceSettings(backend="sqlite", path=str(state)) if state else None
    try:
        async with RuntimeLoop(config or DOMAIN, persistence=persistence) as runtime:
            assert runtime.config is not None
            flows = ", ".join(
                flow.description or name for name, flow in runtime.config.domain.flows.items()
            )
            print(f"soni: I can help with: {flows}. ({COMMANDS})")
            await _converse(runtime, user)
    except SoniError as error:
        print(f"soni: {error}", file=sys.stderr)
        return 2
    return 0


async def _converse(runtime: RuntimeLoop, user: str) -> None:
    while True:
        try:
            line = await asyncio.to_thread(input, "you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        text = line.strip()
        if text in ("/quit", "/exit"):
            return
        if text == "/reset":
            await runtime.reset_state(user)
            print("(conversation reset)")
            continue
        if text == "/state":
            print(await runtime.get_state(user))
            continue
        if not text:
            continue
        # A key per line: were the turn retried (it is not, here), it would not apply twice.
        result = await runtime.process_message(user, text, idempotency_key=uuid.uuid4().hex)
        print("bot> " + result.reply.replace("\n", "\nbot> "))
