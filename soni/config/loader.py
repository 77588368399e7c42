"""Loading a configuration: one YAML file, or a directory of them merged by name.

Every problem found is reported at once, each naming its file, line and field. Loading is
synchronous (it reads files and imports the actions module): call it before the event loop
runs, or through `asyncio.to_thread` (which is what `RuntimeLoop` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from soni.config.actions import ActionRegistry
from soni.config.models import Domain
from soni.config.server import ServerSettings
from soni.config.validate import Location, check_domain, field_name
from soni.config.yaml_source import LocatedDocument, YamlSyntaxError, load_located
from soni.core.slots import SlotType
from soni.du.overlaps import builtin_overlaps
from soni.errors import ConfigError, ConfigErrors

_SECTIONS = ("slots", "flows")
_UNION_MEMBERS = {"BranchCase", "BranchElse"}


@dataclass(frozen=True)
class SoniConfig:
    """A validated configuration with its actions imported."""

    domain: Domain
    base_dir: Path
    files: tuple[Path, ...]
    actions: ActionRegistry
    warnings: tuple[ConfigError, ...] = ()
    """What loads but may not do what its author meant (a trigger the built-ins shadow)."""

    @cached_property
    def slot_types(self) -> Mapping[str, SlotType]:
        return {name: slot.type for name, slot in self.domain.slots.items()}

    def resolve(self, relative: str) -> Path:
        """A path from `settings`, relative to the configuration's directory."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def load_config(path: str | Path, *, actions: ActionRegistry | None = None) -> SoniConfig:
    """Load and validate `path` (a YAML file or a directory of YAML files)."""
    source = Path(path)
    files = _files(source)
    documents = [read_document(file) for file in files]
    base_dir = source if source.is_dir() else source.parent
    return build_config(documents, base_dir, actions=actions)


def load_server_settings(path: str | Path) -> tuple[ServerSettings, Path]:
    """Only `settings.server` of `path`, and the directory its paths are relative to:
    what an app factory needs before the event loop runs, without importing the actions."""
    source = Path(path)
    documents = [read_document(file) for file in _files(source)]
    merged, origins = _merge(documents)
    settings = merged.get("settings")
    section = settings.get("server", {}) if isinstance(settings, dict) else {}
    try:
        server = ServerSettings.model_validate(section)
    except ValidationError as error:
        locate = _locator(documents, origins)
        problems = validation_problems(error, lambda p: locate(("settings", "server", *p)))
        raise ConfigErrors(
            [
                ConfigError(
                    problem.reason,
                    file=problem.file,
                    line=problem.line,
                    field=f"settings.server.{problem.field}",
                )
                for problem in problems
            ]
        ) from None
    return server, source if source.is_dir() else source.parent


def config_from_text(
    text: str,
    *,
    name: str = "<config>",
    base_dir: Path | None = None,
    actions: ActionRegistry | None = None,
) -> SoniConfig:
    """A configuration from YAML text (for tests and embedding)."""
    document = _located(text, name)
    return build_config([document], base_dir or Path.cwd(), actions=actions)


def build_config(
    documents: list[LocatedDocument], base_dir: Path, *, actions: ActionRegistry | None = None
) -> SoniConfig:
    merged, origins = _merge(documents)
    locate = _locator(documents, origins)
    try:
        domain = Domain.model_validate(merged)
    except ValidationError as error:
        raise ConfigErrors(validation_problems(error, locate)) from None
    if actions is None:
        actions = _import_actions(domain, base_dir, locate)
    problems = check_domain(domain, locate, actions.actions)
    if problems:
        raise ConfigErrors(problems)
    files = tuple(Path(document.file) for document in documents)
    warnings = tuple(
        ConfigError(message, file=file, line=line, field=field_name(path))
        for path, message in builtin_overlaps(domain)
        for file, line in [locate(path)]
    )
    return SoniConfig(domain, base_dir, files, actions, warnings)


def _files(source: Path) -> list[Path]:
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix in (".yaml", ".yml"))
        if not files:
            raise ConfigErrors([ConfigError("no .yaml or .yml files here", file=str(source))])
        return files
    if not source.is_file():
        raise ConfigErrors([ConfigError("no such file or directory", file=str(source))])
    return [source]


def read_document(file: Path) -> LocatedDocument:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigErrors([ConfigError(f"cannot read: {error}", file=str(file))]) from error
    return _located(text, str(file))


def _located(text: str, name: str) -> LocatedDocument:
    try:
        document = load_located(text, name)
    except YamlSyntaxError as error:
        raise ConfigErrors(
            [ConfigError(error.message, file=error.file, line=error.line)]
        ) from error
    if document.data is not None and not isinstance(document.data, dict):
        raise ConfigErrors([ConfigError("the top level must be a mapping", file=name, line=1)])
    return document


def _merge(documents: list[LocatedDocument]) -> tuple[dict[str, Any], dict[tuple[str, str], int]]:
    """One configuration from several files; `origins` says which document defined each
    slot, flow or settings key (by index into `documents`)."""
    merged: dict[str, Any] = {}
    origins: dict[tuple[str, str], int] = {}
    problems = []
    for index, document in enumerate(documents):
        for key, value in (document.data or {}).items():
            if key in _SECTIONS or key == "settings":
                if not isinstance(value, dict):
                    merged.setdefault(key, value)
                    continue
                section = merged.setdefault(key, {})
                for name, entry in value.items():
                    if (key, name) in origins:
                        first = documents[origins[(key, name)]]
                        problems.append(
                            ConfigError(
                                f"{key}.{name} is already defined in {first.file}:"
                                f"{first.line_of((key, name))}",
                                file=document.file,
                                line=document.line_of((key, name)),
                                field=f"{key}.{name}",
                            )
                        )
                        continue
                    origins[(key, name)] = index
                    section[name] = entry
            elif key == "version" and "version" in merged and merged["version"] != value:
                problems.append(
                    ConfigError(
                        f"version {value!r} differs from {merged['version']!r} in another file",
                        file=document.file,
                        line=document.line_of(("version",)),
                        field="version",
                    )
                )
            else:
                merged.setdefault(key, value)
                origins.setdefault((key, ""), index)
    if problems:
        raise ConfigErrors(problems)
    return merged, origins


def _locator(documents: list[LocatedDocument], origins: dict[tuple[str, str], int]) -> Location:
    def locate(path: tuple[str | int, ...]) -> tuple[str, int]:
        if not documents:
            return "", 0
        index = 0
        if path:
            key = str(path[0])
            name = str(path[1]) if len(path) > 1 else ""
            index = origins.get((key, name), origins.get((key, ""), 0))
        document = documents[index]
        return document.file, document.line_of(path)

    return locate


def validation_problems(error: ValidationError, locate: Location) -> list[ConfigError]:
    """Each problem pydantic found, at the file and line of its field."""
    problems = []
    seen = set()
    for item in error.errors():
        path = tuple(
            p
            for p in item["loc"]
            if not (
                isinstance(p, str)
                and (p in _UNION_MEMBERS or p.startswith(("function-", "tagged-union")))
            )
        )
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = f"unknown key {path[-1]!r}"
        elif item["type"] == "missing":
            message = f"missing required key {path[-1]!r}"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        key = (path, message)
        if key in seen:
            continue
        seen.add(key)
        file, line = locate(path)
        problems.append(ConfigError(message, file=file, line=line, field=field_name(path)))
    return problems


def _import_actions(domain: Domain, base_dir: Path, locate: Location) -> ActionRegistry:
    module = domain.settings.actions
    if module is None:
        return ActionRegistry()
    try:
        return ActionRegistry.from_module(module, base_dir)
    except Exception as error:  # any import-time failure of user code is a config problem
        file, line = locate(("settings", "actions"))
        raise ConfigErrors(
            [
                ConfigError(
                    f"cannot import actions module {module!r}: {type(error).__name__}: {error}",
                    file=file,
                    line=line,
                    field="settings.actions",
                )
            ]
        ) from error
