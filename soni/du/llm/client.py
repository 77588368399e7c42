"""The chat model over the official `openai` package: any OpenAI-compatible server (OpenAI,
vLLM, Ollama, llama.cpp's server).

The only module of soni that imports `openai`; the runtime imports it in a worker thread,
and only when `settings.understanding` names a model. The client is built once per runtime,
also in a worker thread (its constructor loads TLS certificates), and closed with the
runtime. Its own retries are off: the generator decides what is asked again. The API key is
read from the environment when the runtime starts and handed to the client only: it is
never logged, returned or kept in state, and no failure reason quotes a server's words.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any

from openai import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
    Omit,
    OpenAIError,
    omit,
)
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionAssistantMessageParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
    completion_create_params,
)

from soni.config.understanding import UnderstandingSettings
from soni.du.llm.model import ModelFailure
from soni.du.llm.prompt import ChatMessage
from soni.errors import ConfigError

NO_KEY = "unused"
"""Sent when `api_key_env` is unset: local servers ignore it, and the client needs one."""
SCHEMA_NAME = "soni_commands"


class OpenAIChatModel:
    def __init__(self, client: AsyncOpenAI, settings: UnderstandingSettings) -> None:
        assert settings.model is not None
        self.client = client
        self.model = settings.model
        self.timeout_s = settings.timeout_s
        self.response_format = settings.response_format

    async def complete(
        self, messages: Sequence[ChatMessage], schema: Mapping[str, Any]
    ) -> str | None:
        try:
            completion = await self.client.chat.completions.create(
                model=self.model,
                messages=[_param(message) for message in messages],
                temperature=0,
                timeout=self.timeout_s,
                response_format=self._format(schema),
            )
        except APITimeoutError:
            raise ModelFailure(f"no reply within {self.timeout_s:g} s", retryable=True) from None
        except APIConnectionError:
            raise ModelFailure("cannot connect to the model server", retryable=True) from None
        except APIStatusError as error:
            status = error.status_code
            retryable = status in (408, 409, 429) or status >= 500
            raise ModelFailure(
                f"HTTP {status} from the model server", retryable=retryable
            ) from None
        except OpenAIError as error:  # a reply the client cannot read as a completion
            raise ModelFailure(
                f"unreadable reply ({type(error).__name__})", retryable=True
            ) from None
        reply: object = completion  # a body that is not JSON comes back as text
        if not isinstance(reply, ChatCompletion):
            raise ModelFailure("a reply that is not a chat completion", retryable=True)
        if not reply.choices:
            return None
        return reply.choices[0].message.content

    def _format(self, schema: Mapping[str, Any]) -> completion_create_params.ResponseFormat | Omit:
        if self.response_format == "none":
            return omit
        if self.response_format == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "schema": dict(schema), "strict": True},
        }


async def open_chat_model(
    settings: UnderstandingSettings, resources: AsyncExitStack
) -> OpenAIChatModel:
    """The model client for a runtime, closed when `resources` closes."""
    key = api_key(settings)
    client = await asyncio.to_thread(
        AsyncOpenAI, api_key=key, base_url=settings.base_url, max_retries=0
    )
    resources.push_async_callback(client.close)
    return OpenAIChatModel(client, settings)


def api_key(settings: UnderstandingSettings) -> str:
    variable = settings.api_key_env
    if variable is None:
        return NO_KEY
    key = os.environ.get(variable, "")
    if not key:
        raise ConfigError(
            f"the environment variable {variable} (the model's API key) is not set",
            field="settings.understanding.api_key_env",
        )
    return key


def _param(message: ChatMessage) -> ChatCompletionMessageParam:
    if message.role == "system":
        return ChatCompletionSystemMessageParam(role="system", content=message.content)
    if message.role == "assistant":
        return ChatCompletionAssistantMessageParam(role="assistant", content=message.content)
    return ChatCompletionUserMessageParam(role="user", content=message.content)
