"""`[tool.soni-audit]`: defaults, validation and error messages that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.engine.config import DEFAULT_EXCLUDE, Config, ConfigError, find_config, load_config
from audit.rules import OPT_IN_CODES, all_rules


def _load(tmp_path: Path, body: str):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n\n[tool.soni-audit]\n' + body, encoding="utf-8")
    return load_config(path, default_root=tmp_path)


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(None, default_root=tmp_path)
    assert config.root == tmp_path
    assert config.select == ("ALL",)
    assert config.exclude == DEFAULT_EXCLUDE
    assert "BLK100" in config.selection()


def test_full_configuration(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        'select = ["BLK"]\nignore = ["BLK104"]\nextend-exclude = ["gen/"]\n'
        'per-file-ignores = { "tests/*" = ["BLK100"] }\n'
        '[tool.soni-audit.blocking-callables]\n"mylib.fetch" = "`await mylib.afetch()`"\n',
    )
    selection = config.selection()
    assert "BLK100" in selection
    assert "BLK104" not in selection
    assert "AUD900" not in selection
    assert config.extend_exclude == ("gen/",)
    assert config.per_file_ignores == {"tests/*": ("BLK100",)}
    assert config.analysis_settings.blocking == {"mylib.fetch": "`await mylib.afetch()`"}


def test_mutation_ignore_names(tmp_path: Path) -> None:
    config = _load(tmp_path, '[tool.soni-audit.mutation]\nignore-names-regex = "^scope$"\n')
    assert config.analysis_settings.mutation_ignore_names == "^scope$"


def test_command_line_select_replaces_and_ignore_extends(tmp_path: Path) -> None:
    config = _load(tmp_path, 'select = ["BLK100"]\nignore = ["BLK101"]\n')
    selection = config.selection(select=["BLK"], ignore=["BLK104"])
    blocking = {rule.code for rule in all_rules() if rule.code.startswith("BLK")}
    # `select` replaces the configured BLK100; `ignore` adds BLK104 to the configured BLK101;
    # an opt-in rule needs its exact code.
    assert selection.enabled == blocking - {"BLK101", "BLK104"} - OPT_IN_CODES
    assert {"BLK100", "BLK102", "BLK103"} <= selection.enabled


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('selct = ["BLK"]\n', r"pyproject.toml:5: unknown key 'selct' \(did you mean 'select'\?\)"),
        (
            'select = "BLK"\n',
            r"pyproject.toml:5: \[tool.soni-audit\] select must be a list of strings",
        ),
        ('select = ["NOPE1"]\n', r"pyproject.toml:5: unknown rule selector 'NOPE1'"),
        (
            'respect-gitignore = "yes"\n',
            r"pyproject.toml:5: \[tool.soni-audit\] respect-gitignore must be true or false",
        ),
        (
            'per-file-ignores = { "a/*" = "BLK" }\n',
            r"pyproject.toml:5: per-file-ignores.\"a/\*\" must be a list",
        ),
        (
            'per-file-ignores = { "a/*" = ["XX9"] }\n',
            r"pyproject.toml:5: unknown rule selector 'XX9'",
        ),
        (
            '\n[tool.soni-audit.blocking-callables]\n"fetch" = "x"\n',
            r"pyproject.toml:7: blocking-callables.\"fetch\" must be a qualified name",
        ),
        (
            '\n[tool.soni-audit.blocking-callables]\n"a.fetch" = 3\n',
            r"pyproject.toml:7: blocking-callables.\"a.fetch\" must be a string",
        ),
        ('select = ["BLK"\nignore = []\n', r"pyproject.toml:6:1: invalid TOML: "),
        ("select = [\n", r"pyproject.toml: invalid TOML: Invalid value"),
        (
            '[tool.soni-audit.mutation]\nignore-names-regex = "("\n',
            r"pyproject.toml:6: ignore-names-regex is not a valid regex",
        ),
        (
            '[tool.soni-audit.mutation]\nignore-names = "x"\n',
            r"pyproject.toml:6: unknown key 'ignore-names' in \[tool.soni-audit.mutation\]",
        ),
        (
            'target-version = "2.7"\n',
            r"pyproject.toml:5: \[tool.soni-audit\] target-version must be a Python 3 version",
        ),
        ("target-version = 3.11\n", r"pyproject.toml:5: .*target-version must be a Python 3"),
        ("target-platform = 1\n", r"pyproject.toml:5: .*target-platform must be a string"),
    ],
)
def test_bad_configuration_names_file_line_and_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, body)


@pytest.mark.parametrize(
    ("written", "version"), [('"3.9"', (3, 9)), ('"py312"', (3, 12)), ('"3.13"', (3, 13))]
)
def test_target_version_in_both_spellings(tmp_path: Path, written: str, version: tuple) -> None:
    config = _load(tmp_path, f'target-version = {written}\ntarget-platform = "win32"\n')
    settings = config.analysis_settings
    assert (settings.target_version, settings.target_platform) == (version, "win32")
    assert settings.fingerprint() != Config(root=tmp_path).analysis_settings.fingerprint()


def test_nearest_pyproject_with_a_section_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.soni-audit]\n", encoding="utf-8")
    inner = tmp_path / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (inner / "sub").mkdir()
    assert find_config(inner / "sub") == tmp_path / "pyproject.toml"
    (inner / "pyproject.toml").write_text("[tool.soni-audit]\nselect = ['BLK']\n", encoding="utf-8")
    assert find_config(inner) == inner / "pyproject.toml"
