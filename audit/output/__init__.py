"""Output formats for `soni-audit check`: each module renders a `CheckResult` to a string."""

from __future__ import annotations

from collections.abc import Callable

from audit.engine.results import CheckResult
from audit.output import github, json_format, sarif, text

Renderer = Callable[[CheckResult], str]

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,
    "github": github.render,
}
