"""The bot's own phrases, from `texts.toml`."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Texts:
    phrases: Mapping[str, str]
    chitchat: Mapping[str, str]

    def say(self, key: str, **values: object) -> str:
        return self.phrases[key].format(**values)


@cache
def english_texts() -> Texts:
    data = tomllib.loads(
        resources.files(__package__).joinpath("texts.toml").read_text(encoding="utf-8")
    )
    chitchat = data["chitchat"]
    phrases = {key: value for key, value in data.items() if isinstance(value, str)}
    return Texts(phrases, dict(chitchat))
