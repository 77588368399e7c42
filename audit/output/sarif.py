"""SARIF 2.1.0, as read by GitHub code scanning and most CI dashboards."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from audit import __version__
from audit.core.findings import Finding, Fix, Location
from audit.engine.results import CheckResult

if TYPE_CHECKING:
    from audit.rules.base import Rule

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


def _physical(path: str, span: Finding | Location) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
        "region": {
            "startLine": span.line,
            "startColumn": span.column,
            "endLine": span.end_line,
            "endColumn": span.end_column,
        },
    }


def _fix(path: str, fix: Fix) -> dict[str, Any]:
    replacements = [
        {
            "deletedRegion": {
                "startLine": edit.line,
                "startColumn": edit.column,
                "endLine": edit.end_line,
                "endColumn": edit.end_column,
            },
            "insertedContent": {"text": edit.content},
        }
        for edit in fix.edits
    ]
    return {
        "description": {"text": fix.message},
        "artifactChanges": [
            {
                "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                "replacements": replacements,
            }
        ],
        "properties": {"applicability": fix.applicability.value},
    }


def render(result: CheckResult) -> str:
    from audit.rules import all_rules

    rules = all_rules()
    descriptors = [_rule_descriptor(rule) for rule in rules]
    index = {rule.code: position for position, rule in enumerate(rules)}
    for f in result.findings:
        if f.code not in index:
            index[f.code] = len(descriptors)
            descriptors.append(_pattern_descriptor(f.code, f.message))
    results = []
    for f in result.findings:
        entry: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": descriptors[index[f.code]]["defaultConfiguration"]["level"],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": _physical(f.path, f)}],
        }
        if f.fix is not None:
            entry["fixes"] = [_fix(f.path, f.fix)]
        if f.related:
            entry["relatedLocations"] = [
                {
                    "id": number,
                    "physicalLocation": _physical(r.path, r),
                    "message": {"text": r.message},
                }
                for number, r in enumerate(f.related, start=1)
            ]
        results.append(entry)
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
