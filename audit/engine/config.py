"""`[tool.soni-audit]` in pyproject.toml: finding it, validating it, and its defaults.

Every error names the file, the line when it can be found, and the key at fault.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.core.settings import DEFAULT_IGNORE_NAMES, AnalysisSettings, PatternRule
from audit.engine.fix_policy import FixPolicy
from audit.rules.selection import RuleSelection, SelectionError

SECTION = "tool.soni-audit"
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytest_cache",
    ".ruff_cache",
    ".soni-audit-cache",
    ".svn",
    ".tox",
    ".venv",
    "__pycache__",
    "__pypackages__",
    "_build",
    "build",
    "dist",
    "node_modules",
    "venv",
)
DEFAULT_INCLUDE = ("*.py", "*.pyi")


class ConfigError(Exception):
    """Invalid configuration; the message names the file, line and key."""


@dataclass(frozen=True)
class Config:
    root: Path
    source: Path | None = None
    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = DEFAULT_INCLUDE
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    respect_gitignore: bool = True
    cache_dir: str = ".soni-audit-cache"
    blocking_callables: Mapping[str, str] = field(default_factory=dict)
    mutation_ignore_names: str = DEFAULT_IGNORE_NAMES
    nonblocking: tuple[str, ...] = ()
    src: tuple[str, ...] = (".", "src")
    pattern_rules: tuple[PatternRule, ...] = ()
    fixable: tuple[str, ...] = ("ALL",)
    unfixable: tuple[str, ...] = ()
    baseline: str = ""  # the baseline file, relative to the configuration's directory
    target_version: tuple[int, int] = AnalysisSettings.target_version
    target_platform: str = AnalysisSettings.target_platform
    dependencies: bool = False  # analyse the installed libraries the code reaches
    python: str = ""  # the interpreter whose libraries are read ("": the default choice)

    @property
    def source_roots(self) -> tuple[Path, ...]:
        return tuple((self.root / entry).resolve() for entry in self.src)

    @property
    def analysis_settings(self) -> AnalysisSettings:
        return AnalysisSettings(
            blocking=dict(self.blocking_callables),
            mutation_ignore_names=self.mutation_ignore_names,
            pattern_rules=self.pattern_rules,
            target_version=self.target_version,
            target_platform=self.target_platform,
        )

    def fix_policy(
        self,
        *,
        fixable: Sequence[str] | None = None,
        unfixable: Sequence[str] = (),
        unsafe: bool = False,
    ) -> FixPolicy:
        """Which fixes apply; command-line `fixable` replaces the configured one."""
        codes = RuleSelection.build(
            select=tuple(fixable) if fixable is not None else self.fixable,
            ignore=(*self.unfixable, *unfixable),
            extra_codes=tuple(rule.code for rule in self.pattern_rules),
            opt_in=False,
        )
        return FixPolicy(codes, unsafe)

    def selection(
        self,
        *,
        select: Sequence[str] | None = None,
        extend_select: Sequence[str] = (),
        ignore: Sequence[str] = (),
    ) -> RuleSelection:
        """The enabled rules; command-line `select` replaces the configured one."""
        return RuleSelection.build(
            select=tuple(select) if select is not None else self.select,
            extend_select=(*self.extend_select, *extend_select),
            ignore=(*self.ignore, *ignore),
            extra_codes=tuple(rule.code for rule in self.pattern_rules),
        )


_KEYS = {
    "select",
    "extend-select",
    "ignore",
    "exclude",
    "extend-exclude",
    "include",
    "per-file-ignores",
    "respect-gitignore",
    "cache-dir",
    "blocking-callables",
    "mutation",
    "nonblocking",
    "src",
    "pattern-rules",
    "fixable",
    "unfixable",
    "baseline",
    "target-version",
    "target-platform",
    "dependencies",
    "python",
}


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a `[tool.soni-audit]` section, from `start` upwards."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and re.search(
            r"^\s*\[\s*tool\s*\.\s*[\"']?soni-audit", candidate.read_text(encoding="utf-8"), re.M
        ):
            return candidate
    return None


def load_config(path: Path | None, *, default_root: Path) -> Config:
    """Load `path` (a pyproject.toml), or the defaults rooted at `default_root` when None."""
    if path is None:
        return Config(root=default_root)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read configuration: {error.strerror}") from error
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        position = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        where = f"{path}:{position[1]}:{position[2]}" if position else str(path)
        reason = re.sub(r"\s*\(at .*\)$", "", str(error))
        raise ConfigError(f"{where}: invalid TOML: {reason}") from error
    table = document.get("tool", {}).get("soni-audit", {})
    return _parse(table, path, text)


def _parse(table: Mapping[str, Any], path: Path, text: str) -> Config:
    where = _Locator(path, text)
    for key in table:
        if key not in _KEYS:
            hint = difflib.get_close_matches(key, sorted(_KEYS), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"{where(key)}: unknown key '{key}'{suggestion}")
    config = Config(
        root=path.parent,
        source=path,
        select=_strings(table, "select", where, Config.select),
        extend_select=_strings(table, "extend-select", where, ()),
        ignore=_strings(table, "ignore", where, ()),
        exclude=_strings(table, "exclude", where, DEFAULT_EXCLUDE),
        extend_exclude=_strings(table, "extend-exclude", where, ()),
        include=_strings(table, "include", where, DEFAULT_INCLUDE),
        per_file_ignores=_per_file_ignores(table, where),
        respect_gitignore=_boolean(table, "respect-gitignore", where, True),
        cache_dir=_string(table, "cache-dir", where, ".soni-audit-cache"),
        blocking_callables=_string_table(table, "blocking-callables", where),
        mutation_ignore_names=_mutation_ignore_names(table, where),
        nonblocking=_strings(table, "nonblocking", where, ()),
        src=_strings(table, "src", where, (".", "src")),
        pattern_rules=_pattern_rules(table, where, path.parent),
        fixable=_strings(table, "fixable", where, ("ALL",)),
        unfixable=_strings(table, "unfixable", where, ()),
        baseline=_string(table, "baseline", where, ""),
        target_version=_target_version(table, where),
        target_platform=_string(table, "target-platform", where, Config.target_platform),
        dependencies=_boolean(table, "dependencies", where, False),
        python=_python(table, where, path.parent),
    )
    try:
        config.selection()
        config.fix_policy()
        for codes in config.per_file_ignores.values():
            RuleSelection.build(select=codes)
    except SelectionError as error:
        raise ConfigError(f"{where(error.selector)}: {error}") from error
    return config


class _Locator:
    """Names `file:line` for a key of the section, for error messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def __call__(self, key: str) -> str:
        assignment = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        mention = re.compile(rf"[\"']{re.escape(key)}[\"']|\b{re.escape(key)}\b")
        for pattern in (assignment, mention):
            in_section = False
            for number, line in enumerate(self.lines, start=1):
                stripped = line.strip()
                if stripped.startswith("["):
                    in_section = stripped.lstrip("[ ").startswith(SECTION)
                elif in_section and pattern.search(line):
                    return f"{self.path}:{number}"
        return str(self.path)


def _strings(
    table: Mapping[str, Any], key: str, where: _Locator, default: tuple[str, ...]
) -> tuple[str, ...]:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where(key)}: [{SECTION}] {key} must be a list of strings")
    return tuple(value)


def _string(table: Mapping[str, Any], key: str, where: _Locator, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{where(key)}: [{SECTION}] {key} must be a string")
    return value


def _boolean(table: Mapping[str, Any], key: str, where: _Locator, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where(key)}: [{SECTION}] {key} must be true or false")
    return value


def _per_file_ignores(table: Mapping[str, Any], where: _Locator) -> dict[str, tuple[str, ...]]:
    value = table.get("per-file-ignores", {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where('per-file-ignores')}: per-file-ignores must be a table")
    result: dict[str, tuple[str, ...]] = {}
    for pattern, codes in value.items():
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(
                f'{where(pattern)}: per-file-ignores."{pattern}" must be a list of rule codes'
            )
        result[pattern] = tuple(codes)
    return result


def _pattern_rules(
    table: Mapping[str, Any], where: _Locator, root: Path
) -> tuple[PatternRule, ...]:
    entries = _strings(table, "pattern-rules", where, ())
    if not entries:
        return ()
    from audit.rules.patterns import PatternRuleError, load_pattern_rules

    paths = [root / entry for entry in entries]
    for entry, path in zip(entries, paths, strict=True):
        if not path.exists():
            raise ConfigError(f"{where('pattern-rules')}: pattern-rules: {entry} does not exist")
    try:
        return load_pattern_rules(paths)
    except PatternRuleError as error:
        raise ConfigError(str(error)) from error


def _target_version(table: Mapping[str, Any], where: _Locator) -> tuple[int, int]:
    """`"3.11"` or ruff's spelling `"py311"`: the Python the code is audited for."""
    if "target-version" not in table:
        return Config.target_version
    value = table["target-version"]
    match = re.fullmatch(r"(?:py)?3\.?(\d{1,2})", value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            f"{where('target-version')}: [{SECTION}] target-version must be a Python 3 "
            f'version like "3.11" or "py311", not {value!r}'
        )
    return 3, int(match[1])


def _mutation_ignore_names(table: Mapping[str, Any], where: _Locator) -> str:
    section = table.get("mutation", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{where('mutation')}: [{SECTION}.mutation] must be a table")
    for key in section:
        if key != "ignore-names-regex":
            raise ConfigError(
                f"{where(key)}: unknown key '{key}' in [{SECTION}.mutation] "
                "(known: ignore-names-regex)"
            )
    pattern = section.get("ignore-names-regex", DEFAULT_IGNORE_NAMES)
    if not isinstance(pattern, str):
        raise ConfigError(f"{where('ignore-names-regex')}: ignore-names-regex must be a string")
    try:
        re.compile(pattern)
    except re.error as error:
        raise ConfigError(
            f"{where('ignore-names-regex')}: ignore-names-regex is not a valid regex: {error}"
        ) from error
    return pattern


def _string_table(table: Mapping[str, Any], key: str, where: _Locator) -> dict[str, str]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where(key)}: [{SECTION}] {key} must be a table")
    for name, alternative in value.items():
        if not isinstance(alternative, str):
            raise ConfigError(
                f'{where(name)}: {key}."{name}" must be a string (the alternative to suggest)'
            )
        if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+", name):
            raise ConfigError(
                f"{where(name)}: {key}.\"{name}\" must be a qualified name like 'pkg.module.func'"
            )
    return dict(value)


def _python(table: Mapping[str, Any], where: _Locator, root: Path) -> str:
    """The interpreter to read dependencies from, relative to the configuration's directory."""
    value = _string(table, "python", where, "")
    return str(root / value) if value else ""
