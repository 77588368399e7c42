"""The shape of a rule: its code, name, documentation, examples, precedence and checks.

Importing a rule module must stay cheap (no libcst): a run served from the cache loads the
rules to read their precedence and documentation, never the analysis machinery.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from audit.analysis.facts import Facts
from audit.core.findings import FileSummary, Finding
from audit.core.settings import AnalysisSettings
from audit.core.span import Span

if TYPE_CHECKING:
    import libcst as cst

    from audit.analysis.context import FileContext
    from audit.analysis.mypy_unused import MypyReport
    from audit.fixes.codemods import Fixer
    from audit.fixes.plan import Planned
    from audit.interprocedural.context import ProjectContext, ProjectFinding

EXPECT_MARKER = re.compile(r"\s*#\s*error(?:\s*x(?P<count>\d+))?(?::\s*(?P<note>.*?))?\s*$")


@dataclass(frozen=True)
class RawFinding:
    """A finding still attached to its node; positions are computed once for all of them.

    Findings in comments carry their `span` instead of a node. `def_node` names the function
    whose `def` line may carry a `# noqa` for the whole body. `fix` is the rule's planned
    repair (or why there is none).
    """

    code: str
    node: cst.CSTNode | None
    message: str
    function: str | None = None
    def_node: cst.CSTNode | None = None
    span: Span | None = None
    fix: Planned = None


@dataclass(frozen=True)
class FixExample:
    """Code this rule reports and what `--fix` makes of it (with `--unsafe-fixes` when
    `unsafe`, with `--mypy` when the fix needs mypy's verdict)."""

    before: str
    after: str
    unsafe: bool = False
    mypy: bool = False

    @property
    def flags(self) -> str:
        return " ".join(
            [
                "--fix",
                *(["--unsafe-fixes"] if self.unsafe else []),
                *(["--mypy"] if self.mypy else []),
            ]
        )


class Rule:
    """Base class. Subclasses document themselves in their docstring (markdown, in the
    order "What it does", "Why is this bad?", then anything else) and carry VALID and INVALID
    examples: every line of an INVALID example that ends in `# error` (or `# error x2`,
    optionally followed by `: why`) must be reported by this rule, and nothing else may be.
    A rule that repairs what it reports documents its fix (a "## Fix" section) and carries
    FIXED examples: code before, and what `--fix` with only this rule selected makes of it.

    `yields_to` declares precedence: where one of those rules reports at the same place
    (after `--select`/`--ignore`), this rule's finding is dropped. Disabling the other rule
    therefore brings this one's finding back; nothing is hidden behind selection's back.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[str] = "error"
    opt_in: ClassVar[bool] = False  # enabled only by its exact code (see `OPT_IN_CODES`)
    yields_to: ClassVar[frozenset[str]] = frozenset()
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[str, ...]] = ()
    FIXED: ClassVar[tuple[FixExample, ...]] = ()
    FIX: ClassVar[str] = ""  # the "## Fix" section, when rules share it
    EXAMPLE_SETTINGS: ClassVar[AnalysisSettings] = AnalysisSettings()
    NEEDS_MYPY: ClassVar[bool] = False  # findings come from running mypy (`check --mypy`)
    # The kinds of fact the rule's checks and fixes read: the walk records only what the
    # rules need (see `audit.analysis.facts`).
    needs: ClassVar[Facts] = frozenset()

    def check(self, ctx: FileContext) -> Iterable[RawFinding]:
        """Findings of one file, from the per-file pass (cached with the file)."""
        return ()

    def check_project(self, project: ProjectContext) -> Iterable[ProjectFinding]:
        """Findings that need the whole project (the call graph); run after every file."""
        return ()

    def check_mypy(self, report: MypyReport) -> Iterable[Finding]:
        """Findings from what mypy said about the checked files (`check --mypy`)."""
        return ()

    def check_suppressions(
        self,
        summary: FileSummary,
        known: Iterable[str],
        judged: frozenset[str],
        lines: list[str],
    ) -> Iterable[Finding]:
        """Findings about a file's `# noqa` comments, once all its findings are known."""
        return ()

    def with_mypy(self, finding: Finding, report: MypyReport) -> Finding:
        """This rule's finding, completed with what mypy said (a fix that needs its codes)."""
        return finding

    @classmethod
    def documentation(cls) -> str:
        text = _cleandoc(cls.__doc__ or "")
        return f"{text}\n\n## Fix\n{_cleandoc(cls.FIX)}" if cls.FIX else text

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


def fixer(ctx: FileContext) -> Fixer:
    """The rewrites a rule's fix is made of, planned on this file (libcst is imported only
    when a check runs, never when rules are listed)."""
    from audit.fixes.codemods import Fixer

    return Fixer.of(ctx)


def example_code(example: str) -> str:
    """An example without its `# error` markers, as shown in documentation."""
    lines = _cleandoc(example).splitlines()
    return "\n".join(EXPECT_MARKER.sub(_keep_note, line) for line in lines) + "\n"


def _keep_note(match: re.Match[str]) -> str:
    note = match.group("note")
    return f"  # {note}" if note else ""


def expected_lines(example: str) -> list[int]:
    """Line numbers (1-based, one entry per expected finding) marked in an example."""
    expected: list[int] = []
    for number, line in enumerate(_cleandoc(example).splitlines(), start=1):
        match = EXPECT_MARKER.search(line)
        if match is not None:
            expected.extend([number] * int(match.group("count") or 1))
    return expected


def _cleandoc(text: str) -> str:
    import inspect  # only documentation and examples need it, never a check

    return inspect.cleandoc(text)
