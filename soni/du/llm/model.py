"""What the generators need of a chat model, without naming a client library: one call that
returns the reply's text, or `ModelFailure` when there is no reply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from soni.du.llm.prompt import ChatMessage


class ModelFailure(Exception):
    """A call without a reply (a timeout, an HTTP error, no connection); `retryable` when
    asking again may help (timeouts, 5xx, 429, lost connections; not 4xx)."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        self.reason = reason
        self.retryable = retryable
        super().__init__(reason)


class ChatModel(Protocol):
    async def complete(
        self, messages: Sequence[ChatMessage], schema: Mapping[str, Any]
    ) -> str | None:
        """The text of the model's reply to `messages`, asked to follow `schema`."""
        ...
