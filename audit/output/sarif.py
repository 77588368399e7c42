"""SARIF 2.1.0, as read by GitHub code scanning and most CI dashboards."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from audit import __version__
from audit.runner import CheckResult

if TYPE_CHECKING:
    from audit.rules import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    documentation = rule.documentation()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.section("What it does") or rule.summary},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": rule.severity},
    }


def _pattern_descriptor(code: str, message: str) -> dict[str, Any]:
    """A user-defined pattern rule, known only from its findings."""
    return {
        "id": code,
        "name": code.lower(),
        "shortDescription": {"text": f"User-defined pattern rule {code}"},
        "fullDescription": {"text": message},
        "defaultConfiguration": {"level": "warning"},
    }


def render(result: CheckResult) -> str:
    from audit.rules import ALL_RULES

    descriptors = [_rule_descriptor(rule) for rule in ALL_RULES]
    index = {rule.code: position for position, rule in enumerate(ALL_RULES)}
    for f in result.findings:
        if f.code not in index:
            index[f.code] = len(descriptors)
            descriptors.append(_pattern_descriptor(f.code, f.message))
    results = []
    for f in result.findings:
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": descriptors[index[f.code]]["defaultConfiguration"]["level"],
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.column,
                                "endLine": f.end_line,
                                "endColumn": f.end_column,
                            },
                        }
                    }
                ],
            }
        )
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "soni-audit",
                        "version": __version__,
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
