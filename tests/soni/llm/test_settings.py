"""`settings.understanding`: valid and invalid settings with the file, line and field of
each error; the core never imports `openai`; without it a model backend is a config error
that says how to install it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from soni.config import load_config
from soni.config.understanding import UnderstandingSettings
from soni.du.backends import open_generator
from soni.du.generator import RuleBasedCommandGenerator
from soni.errors import ConfigError, ConfigErrors
from tests.soni.conftest import FixedClock
from tests.soni.llm.conftest import banking_with

VALID = [
    {},
    {"backend": "rules"},
    {"backend": "llm", "model": "gpt-4o-mini", "api_key_env": "OPENAI_API_KEY"},
    {"backend": "hybrid", "model": "llama3.1", "base_url": "http://127.0.0.1:11434/v1"},
    {
        "backend": "hybrid",
        "model": "m",
        "timeout_s": 2.5,
        "max_retries": 0,
        "response_format": "json_object",
    },
    {"backend": "llm", "model": "m", "base_url": "http://127.0.0.1:8080/v1/", "history_turns": 0},
]

INVALID = [
    (
        {"backend": "gpt"},
        "settings.understanding.backend",
        "Input should be 'rules', 'llm' or 'hybrid'",
    ),
    ({"backend": "llm"}, "settings.understanding", "the llm backend needs `model`"),
    (
        {"backend": "hybrid", "model": ""},
        "settings.understanding",
        "the hybrid backend needs `model`",
    ),
    (
        {"model": "m", "api_key_env": "sk-abc123-secret"},
        "settings.understanding.api_key_env",
        "names an environment variable",
    ),
    (
        {"model": "m", "base_url": "127.0.0.1:11434/v1"},
        "settings.understanding.base_url",
        "must start with http://",
    ),
    ({"timeout_s": 0}, "settings.understanding.timeout_s", "greater than 0"),
    ({"max_retries": -1}, "settings.understanding.max_retries", "greater than or equal to 0"),
    ({"max_retries": 9}, "settings.understanding.max_retries", "less than or equal to 5"),
    ({"response_format": "xml"}, "settings.understanding.response_format", "json_schema"),
    ({"temperature": 0.2}, "settings.understanding.temperature", "unknown key 'temperature'"),
]


@pytest.mark.parametrize("understanding", VALID)
def test_valid_settings_load(tmp_path: Path, understanding: dict[str, object]) -> None:
    config = load_config(banking_with(tmp_path / "domain", **understanding))
    assert config.domain.settings.understanding == UnderstandingSettings.model_validate(
        understanding
    )


@pytest.mark.parametrize(("understanding", "field", "message"), INVALID)
def test_invalid_settings_name_file_line_and_field(
    tmp_path: Path, understanding: dict[str, object], field: str, message: str
) -> None:
    path = banking_with(tmp_path / "domain", **understanding)
    with pytest.raises(ConfigErrors) as raised:
        load_config(path)
    [error] = raised.value.errors
    assert error.file == str(path)
    assert error.line == 6  # the understanding line, written right under `settings:`
    assert error.field == field
    assert message in error.reason


def test_rules_stay_the_default(tmp_path: Path) -> None:
    config = load_config(banking_with(tmp_path / "domain"))
    assert config.domain.settings.understanding.backend == "rules"


async def test_the_rules_backend_is_the_rules_alone(tmp_path: Path) -> None:
    domain = load_config(banking_with(tmp_path / "domain")).domain
    async with AsyncExitStack() as resources:
        generator = await open_generator(domain, FixedClock(), resources)
    assert type(generator) is RuleBasedCommandGenerator


def test_without_openai_a_model_backend_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = banking_with(tmp_path / "domain", backend="hybrid", model="m")
    monkeypatch.setitem(sys.modules, "openai", None)  # what an install without the extra sees
    with pytest.raises(ConfigErrors) as raised:
        load_config(path)
    [error] = raised.value.errors
    assert (error.file, error.line, error.field) == (str(path), 6, "settings.understanding.backend")
    assert "pip install 'soni[llm]'" in error.reason


async def test_without_openai_the_runtime_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = load_config(banking_with(tmp_path / "domain", backend="llm", model="m")).domain
    monkeypatch.setitem(sys.modules, "openai", None)
    monkeypatch.delitem(sys.modules, "soni.du.llm.client", raising=False)
    async with AsyncExitStack() as resources:
        with pytest.raises(ConfigError, match=r"pip install 'soni\[llm\]'"):
            await open_generator(domain, FixedClock(), resources)


def test_the_core_never_imports_openai(tmp_path: Path) -> None:
    """A rules runtime, the server app and the CLI, in a fresh interpreter: no `openai`."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        import soni.cli, soni.server.app, soni.runtime, soni.du.backends
        from soni.examples.banking import DOMAIN
        from soni.runtime import RuntimeLoop

        async def main():
            async with RuntimeLoop(DOMAIN) as runtime:
                await runtime.process_message("u", "send 50 to Bob")

        asyncio.run(main())
        print(sorted(name for name in sys.modules if name.split(".")[0] == "openai"))
        """
    )
    env = {"SONI_BANKING_DB": str(tmp_path / "bank.db"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
