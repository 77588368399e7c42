"""Writing a benchmark's report: its template (in `scripts/templates/`, rendered by the
audit's report environment, so both kinds of report read alike), the machine it was
measured on, and the command that measures it again."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment

from audit.report.build import environment as audit_environment
from harness import REPO

TEMPLATES = REPO / "scripts" / "templates"


def environment() -> Environment:
    """The audit's report environment, with the benchmarks' templates."""
    return audit_environment(TEMPLATES)


def render(template: str, **values: object) -> str:
    return environment().get_template(template).render(**values)


def machine() -> str:
    """The machine a benchmark ran on, as every report states it."""
    cpu = platform.processor() or platform.machine()
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"
    )


def command(script: str, argv: Sequence[str], *, dsn: str | None = None) -> str:
    """How a report says to measure again: `python SCRIPT ARGS`, with `dsn` (a database
    address, which may hold a password) written `DSN`."""
    words = ["python", script, *argv]
    return " ".join(word.replace(dsn, "DSN") if dsn else word for word in words)


def emit(text: str, output: Path | None) -> None:
    """Print a report, and write it to `output` too when given."""
    print(text, end="")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


def publish(template: str, output: Path | None, **values: object) -> None:
    """Render a report template with the machine and today's date, print it, and write it
    to `output` if given."""
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    emit(render(template, machine=machine(), date=today, **values), output)
