"""`settings.understanding`: which component reads the user's messages.

    settings:
      understanding: {backend: hybrid, model: llama3.1, base_url: http://127.0.0.1:11434/v1}

`rules` (the default) needs nothing; `llm` asks an OpenAI-compatible chat model for every
message and `hybrid` only for the messages the rules cannot read. The API key is named
(`api_key_env`), never written here: the YAML can be committed.
"""

from __future__ import annotations

import importlib.util
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from soni.config.base import Model

Backend = Literal["rules", "llm", "hybrid"]
OPENAI_BASE_URL = "https://api.openai.com/v1"
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
EXTRA_HINT = "pip install 'soni[llm]'"
"""What installs the model client (the `openai` package)."""


class UnderstandingSettings(Model):
    backend: Backend = "rules"
    model: str | None = None
    """The model's name on the server (`gpt-4o-mini`, `llama3.1`, ...)."""
    base_url: str = OPENAI_BASE_URL
    """The server's OpenAI-compatible API root: Ollama `http://127.0.0.1:11434/v1`, vLLM
    `http://127.0.0.1:8000/v1`, llama.cpp's server `http://127.0.0.1:8080/v1`."""
    api_key_env: str | None = None
    """The environment variable holding the API key; unset for servers that need none."""
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    """How long one model call may take before the turn goes on without it."""
    max_retries: int = Field(default=1, ge=0, le=5)
    """Calls made again after an invalid reply, a timeout, a 5xx/429 or a lost connection."""
    response_format: Literal["json_schema", "json_object", "none"] = "json_schema"
    """How the reply's shape is asked of the server: a JSON schema (OpenAI, vLLM, Ollama,
    llama.cpp), JSON only, or nothing but the prompt. The reply is validated in every case."""
    history_turns: int = Field(default=4, ge=0, le=20)
    """The last turns of the conversation shown to the model."""

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not _VARIABLE.fullmatch(value):
            raise ValueError(
                "`api_key_env` names an environment variable (letters, digits, `_`), "
                "never the key itself"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("`base_url` must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _model_for_a_model(self) -> UnderstandingSettings:
        if self.backend != "rules" and not self.model:
            raise ValueError(f"the {self.backend} backend needs `model` (the model's name)")
        return self

    @property
    def uses_model(self) -> bool:
        return self.backend != "rules"


def client_problem(settings: UnderstandingSettings) -> str | None:
    """Why the configured backend cannot run here: its client is not installed."""
    if settings.uses_model and importlib.util.find_spec("openai") is None:
        return f"the {settings.backend} backend needs the openai package: {EXTRA_HINT}"
    return None
