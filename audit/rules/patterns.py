"""User-defined pattern rules: ast-grep rules in YAML, reported as ordinary findings.

    # audit-rules.yml (listed under `pattern-rules` in [tool.soni-audit])
    id: PAT001
    message: "`print($$$ARGS)` in a coroutine; use logging"
    rule:
      pattern: print($$$ARGS)
      inside: {kind: function_definition, regex: "^async\\s", stopBy: end}
    fix: logger.info($$$ARGS)

The rule body is ast-grep's own syntax (`rule`, `constraints`, `utils`, `transform`); `id`
is the code used by `--select`, `# noqa` and per-file-ignores, so it must look like one
(`PAT001`). `$NAME` and `$$$NAME` in `message` and `fix` are replaced by what they matched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import yaml

from audit.core.findings import Applicability, Edit, Finding, Fix
from audit.core.settings import PatternRule
from audit.rules import RULE_CODES

_CODE = re.compile(r"^[A-Z]{2,}[0-9]{3}$")
_KEYS = {
    "id",
    "language",
    "message",
    "severity",
    "note",
    "rule",
    "constraints",
    "utils",
    "transform",
    "fix",
    "url",
    "metadata",
}
_CONFIG_KEYS = ("rule", "constraints", "utils", "transform")
_METAVARIABLE = re.compile(r"\$(\$\$)?([A-Z_][A-Z0-9_]*)")


class PatternRuleError(ValueError):
    """A pattern rule file or rule is invalid (the message names the file and rule id)."""


def load_pattern_rules(paths: Iterable[Path]) -> tuple[PatternRule, ...]:
    rules: list[PatternRule] = []
    for path in paths:
        files = sorted([*path.glob("*.yml"), *path.glob("*.yaml")]) if path.is_dir() else [path]
        for file in files:
            rules.extend(_load_file(file))
    codes = [rule.code for rule in rules]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise PatternRuleError(f"pattern rule id used twice: {', '.join(duplicates)}")
    return tuple(rules)


def _load_file(path: Path) -> list[PatternRule]:
    try:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise PatternRuleError(f"{path}: cannot read pattern rules: {error.strerror}") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise PatternRuleError(f"{where}: invalid YAML: {problem}") from error
    return [_rule(path, document) for document in documents if document is not None]


def _rule(path: Path, document: Any) -> PatternRule:
    if not isinstance(document, dict):
        raise PatternRuleError(f"{path}: each YAML document must be a rule (a mapping)")
    code = document.get("id")
    where = f"{path}: rule {code!r}"
    if not isinstance(code, str) or not _CODE.match(code):
        raise PatternRuleError(f"{where}: `id` must be a code like PAT001 (letters, 3 digits)")
    if code in RULE_CODES:
        raise PatternRuleError(f"{where}: `id` {code} is a built-in rule's code")
    unknown = sorted(set(document) - _KEYS)
    if unknown:
        raise PatternRuleError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if document.get("language", "python").lower() != "python":
        raise PatternRuleError(f"{where}: only `language: python` is supported")
    message = document.get("message")
    if not isinstance(message, str) or not message.strip():
        raise PatternRuleError(f"{where}: `message` is required")
    if "rule" not in document:
        raise PatternRuleError(f"{where}: `rule` is required")
    fix = document.get("fix")
    if fix is not None and not isinstance(fix, str):
        raise PatternRuleError(f"{where}: `fix` must be a string")
    config = {key: document[key] for key in _CONFIG_KEYS if key in document}
    try:
        _matches(config, "")
    except Exception as error:  # ast-grep reports invalid rules as plain exceptions
        raise PatternRuleError(f"{where}: invalid ast-grep rule: {error}") from error
    return PatternRule(code, message.strip(), json.dumps(config, sort_keys=True), fix, str(path))


def _matches(config: dict[str, Any], text: str) -> list[Any]:
    from ast_grep_py import SgRoot

    return SgRoot(text, "python").root().find_all(cast(Any, config))


def pattern_findings(text: str, path: str, rules: Sequence[PatternRule]) -> list[Finding]:
    if not rules:
        return []
    from ast_grep_py import SgRoot

    root = SgRoot(text, "python").root()  # one parse for every rule
    found = []
    for rule in rules:
        for match in root.find_all(cast(Any, json.loads(rule.config))):
            where = match.range()
            line, column = where.start.line + 1, where.start.column + 1
            end_line, end_column = where.end.line + 1, where.end.column + 1
            fix = None
            if rule.fix is not None:
                replacement = _fill(rule.fix, match)
                edit = Edit(line, column, end_line, end_column, replacement)
                # The project wrote this replacement itself, in its own rule file.
                fix = Fix(Applicability.SAFE, f"replace with `{replacement}`", (edit,))
            found.append(
                Finding(
                    path=path,
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    code=rule.code,
                    message=_fill(rule.message, match),
                    fix=fix,
                )
            )
    return found


def _fill(template: str, match: Any) -> str:
    """`$NAME` / `$$$NAME` replaced by the text they matched."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(2)
        if found.group(1):
            nodes = match.get_multiple_matches(name)
            return ", ".join(node.text() for node in nodes if node.is_named())
        node = match.get_match(name)
        return node.text() if node is not None else found.group(0)

    return _METAVARIABLE.sub(replace, template)
