"""GitHub Actions workflow commands: one `::error` annotation per finding."""

from __future__ import annotations

from audit.engine.results import CheckResult


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def render(result: CheckResult) -> str:
    lines = []
    for f in result.findings:
        properties = ",".join(
            [
                f"file={_property(f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_column}",
                f"title={_property(f'soni-audit {f.code}')}",
            ]
        )
        lines.append(f"::error {properties}::{_data(f'{f.code} {f.message}')}")
    return "".join(line + "\n" for line in lines)
