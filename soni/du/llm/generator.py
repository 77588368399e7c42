"""The model-backed command generators, through the same protocol as the rules.

`llm`: every message goes to the model. `hybrid`: the rules read it first, and the model is
asked only when they find nothing (every command a `cannot_handle`) or cannot choose between
flows (a `clarify`). Either way an invalid reply is asked again (`max_retries`), and when
no usable reply comes the turn takes the rules' reading, with a warning in the log: a turn
never fails because of the model. Each turn returns `Understood`, whose `ModelUse` (calls,
latency, who answered, why not the model) the turn records in the state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from soni.core.commands import CannotHandle, Clarify, Command
from soni.core.types import Clock, ModelUse, UnderstandingContext, Understood
from soni.du.generator import EMPTY_MESSAGE, RuleBasedCommandGenerator
from soni.du.llm.language import reply_schema
from soni.du.llm.model import ChatModel, ModelFailure
from soni.du.llm.prompt import ChatMessage, Prompt
from soni.du.llm.reply import InvalidReply, ReplyReader

log = logging.getLogger("soni.understanding")

MAX_ECHOED_CHARS = 2000
"""An invalid reply shown back to the model with the reason is cut to this length."""


@dataclass(frozen=True)
class Answer:
    """What asking the model gave: its commands, or the reason there are none."""

    commands: tuple[Command, ...] | None
    calls: int
    latency_ms: float
    failure: str | None = None


class ModelReader:
    """Asks the model for the commands of one message, asking again after an invalid reply
    or a failure worth retrying."""

    def __init__(
        self,
        model: ChatModel,
        rules: RuleBasedCommandGenerator,
        clock: Clock,
        *,
        max_retries: int,
        history_turns: int,
    ) -> None:
        self.model = model
        self.clock = clock
        self.max_retries = max_retries
        domain = rules.domain
        flow_slots = dict(rules.index.flow_slots)
        topics = tuple(rules.lexicon.chitchat)
        self.prompt = Prompt(domain, flow_slots, topics, history_turns)
        self.reader = ReplyReader(domain, flow_slots, rules.extractor, frozenset(topics))
        slots = {slot for slots in flow_slots.values() for slot in slots}
        self.schema: Mapping[str, Any] = reply_schema(domain.flows, slots, topics)

    async def ask(self, message: str, context: UnderstandingContext) -> Answer:
        messages = self.prompt.messages(message, context, self.clock.today())
        calls = 0
        failure = "no call made"
        started = time.perf_counter()
        while calls <= self.max_retries:
            calls += 1
            try:
                text = await self.model.complete(messages, self.schema)
            except ModelFailure as error:
                failure = error.reason
                if not error.retryable:
                    break
                continue
            except Exception as error:  # a turn never fails because of the model
                log.exception("understanding: the model call failed unexpectedly")
                failure = f"unexpected error ({type(error).__name__})"
                break
            try:
                commands = self.reader.interpret(text, context)
            except InvalidReply as error:
                failure = f"invalid reply: {error.reason}"
                messages = (*messages[:2], *_told_why(text, error.reason))
                continue
            return Answer(commands, calls, _since(started))
        return Answer(None, calls, _since(started), failure)


class ModelCommandGenerator:
    """`llm` (the model reads every message) or `hybrid` (the rules first)."""

    def __init__(
        self,
        rules: RuleBasedCommandGenerator,
        model: ModelReader,
        backend: Literal["llm", "hybrid"],
    ) -> None:
        self.rules = rules
        self.model = model
        self.backend: Literal["llm", "hybrid"] = backend

    async def generate(self, message: str, context: UnderstandingContext) -> Understood:
        ruled: Sequence[Command] | None = None
        if self.backend == "hybrid":
            ruled = self.rules.understand(message, context)
            if not needs_model(ruled):
                return Understood(tuple(ruled), ModelUse(backend=self.backend))
        answer = await self.model.ask(message, context)
        if answer.commands is not None:
            use = self._use(answer, "model")
            log.info(
                "understanding (%s): %d model call(s) in %.1f ms, the model answered",
                self.backend,
                answer.calls,
                answer.latency_ms,
            )
            return Understood(answer.commands, use)
        log.warning(
            "understanding (%s): no usable reply from the model after %d call(s) in %.1f ms "
            "(%s); the rules read the message",
            self.backend,
            answer.calls,
            answer.latency_ms,
            answer.failure,
        )
        if ruled is None:
            ruled = self.rules.understand(message, context)
        return Understood(tuple(ruled), self._use(answer, "rules"))

    def _use(self, answer: Answer, answered_by: Literal["rules", "model"]) -> ModelUse:
        return ModelUse(
            backend=self.backend,
            model_calls=answer.calls,
            latency_ms=answer.latency_ms,
            answered_by=answered_by,
            fallback=answer.failure,
        )


def needs_model(commands: Sequence[Command]) -> bool:
    """The rules found nothing (only `cannot_handle`, an empty message aside) or could
    not choose between flows."""
    if any(isinstance(command, Clarify) for command in commands):
        return True
    return all(
        isinstance(command, CannotHandle) and command.reason != EMPTY_MESSAGE
        for command in commands
    )


def _told_why(text: str | None, reason: str) -> tuple[ChatMessage, ChatMessage]:
    said = (text or "")[:MAX_ECHOED_CHARS]
    again = f"That reply cannot be used ({reason}). Answer again with the JSON object only."
    return ChatMessage("assistant", said), ChatMessage("user", again)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
