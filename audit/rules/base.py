"""The shape of a rule: its code, name, documentation, examples and check."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import ClassVar

from audit.analysis.context import FileContext, RawFinding
from audit.analysis.settings import AnalysisSettings
from audit.interprocedural.context import PendingFinding, ProjectContext

EXPECT_MARKER = re.compile(r"\s*#\s*error(?:\s*x(?P<count>\d+))?(?::\s*(?P<note>.*?))?\s*$")


class Rule:
    """Base class. Subclasses document themselves in their docstring (markdown, in the
    order "What it does", "Why is this bad?", then anything else) and carry VALID and INVALID
    examples: every line of an INVALID example that ends in `# error` (or `# error x2`,
    optionally followed by `: why`) must be reported by this rule, and nothing else may be."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[str] = "error"
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[str, ...]] = ()
    EXAMPLE_SETTINGS: ClassVar[AnalysisSettings] = AnalysisSettings()
    NEEDS_MYPY: ClassVar[bool] = False  # findings come from running mypy (`check --mypy`)

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        """Findings of one file, from the per-file pass (cached with the file)."""
        return ()

    def check_project(self, project: ProjectContext) -> Iterable[PendingFinding]:
        """Findings that need the whole project (the call graph); run after every file."""
        return ()

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def reference(cls) -> str:
        """Extra reference material for the rule's page (e.g. the catalogue it uses)."""
        return ""

    @classmethod
    def section(cls, heading: str) -> str:
        """The text under a `## heading` of the documentation ("" if absent)."""
        parts = re.split(r"^## +(.+)$", cls.documentation(), flags=re.M)
        for title, body in zip(parts[1::2], parts[2::2], strict=True):
            if title.strip().lower() == heading.lower():
                return body.strip()
        return ""


def example_code(example: str) -> str:
    """An example without its `# error` markers, as shown in documentation."""
    lines = inspect.cleandoc(example).splitlines()
    return "\n".join(EXPECT_MARKER.sub(_keep_note, line) for line in lines) + "\n"


def _keep_note(match: re.Match[str]) -> str:
    note = match.group("note")
    return f"  # {note}" if note else ""


def expected_lines(example: str) -> list[int]:
    """Line numbers (1-based, one entry per expected finding) marked in an example."""
    expected: list[int] = []
    for number, line in enumerate(inspect.cleandoc(example).splitlines(), start=1):
        match = EXPECT_MARKER.search(line)
        if match is not None:
            expected.extend([number] * int(match.group("count") or 1))
    return expected
