"""AUD100: a `# noqa` code that silences nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from audit.core.findings import Applicability, Edit, FileSummary, Finding, Fix, NoqaComment
from audit.rules.base import FixExample, Rule


class UnusedNoqa(Rule):
    """
    ## What it does
    Flags a code in a `# noqa: CODE` comment when the line has no finding of that code
    (also where a `# noqa` on a `def` line silences nothing in the function's body). Only
    soni-audit's own codes and prefixes are judged: `E501` or `F401` belong to other tools
    and are left alone, and a bare `# noqa` is not reported.

    ## Why is this bad?
    A suppression outlives the problem it was written for: once the code is fixed, the
    comment still silences the next problem on that line, unseen. Removing it keeps every
    silenced finding a deliberate one.

    ## Fix
    Safe: the unused codes are removed from the comment; a comment left with no code is
    removed with the spaces before it, and other text in the comment stays.
    """

    code = "AUD100"
    name = "unused-noqa"
    summary = "`# noqa` code with no finding to silence"

    def check_suppressions(
        self,
        summary: FileSummary,
        known: Iterable[str],
        judged: frozenset[str],
        lines: list[str],
    ) -> Iterator[Finding]:
        """`known` are the codes soni-audit reports; `judged` those this run could have
        found (a TIG102 needs `--mypy`); `lines` the file's text."""
        ours = tuple(known)
        used: dict[int, set[str]] = {}
        for finding in summary.findings:
            used.setdefault(finding.line, set()).add(finding.code)
        for line, codes in summary.suppressions.covered.items():
            used.setdefault(line, set()).update(codes)
        for directive in summary.suppressions.directives:
            present = used.get(directive.line, set())
            unused = [
                code
                for code in directive.codes
                if any(rule.startswith(code) for rule in ours)
                and all(rule in judged for rule in ours if rule.startswith(code))
                and not any(found.startswith(code) for found in present)
            ]
            if unused:
                text = lines[directive.line - 1] if directive.line <= len(lines) else ""
                yield Finding(
                    summary.path,
                    directive.line,
                    directive.column,
                    directive.line,
                    directive.end_column,
                    self.code,
                    f"unused `# noqa` code{'s' if len(unused) > 1 else ''} "
                    f"{', '.join(unused)}: no such finding on this line; remove "
                    f"{'them' if len(unused) > 1 else 'it'}",
                    fix=_fix(directive, unused, text),
                )

    VALID = (
        """
        import time

        async def handler():
            time.sleep(1)  # noqa: BLK100
            value = 1  # noqa: E501
            other = 2  # noqa
        """,
        """
        def fill(settings):  # noqa: MUT101
            settings["a"] = 1
        """,
    )

    INVALID = (
        """
        import asyncio

        async def handler():
            await asyncio.sleep(1)  # noqa: BLK100  # error
            value = 1  # noqa: BLK100, E501  # error
        """,
        """
        def fill(settings):  # noqa: MUT101  # error: nothing in the body to silence
            return dict(settings)
        """,
    )

    FIXED = (
        FixExample(
            """
            import asyncio

            async def handler():
                await asyncio.sleep(1)  # noqa: BLK100
                value = 1  # noqa: BLK100, E501
                other = 2  # type: ignore[misc]  # noqa: MUT101
                last = 3  # noqa: MUT101 -- kept for the loop below
            """,
            """
            import asyncio

            async def handler():
                await asyncio.sleep(1)
                value = 1  # noqa: E501
                other = 2  # type: ignore[misc]
                last = 3  # -- kept for the loop below
            """,
        ),
    )


def _fix(directive: NoqaComment, unused: list[str], line: str) -> Fix:
    kept = [code for code in directive.codes if code not in unused]
    number = directive.line
    if kept:
        codes = "# noqa: " + ", ".join(kept)
        edit = Edit(number, directive.column, number, directive.end_column, codes)
        return Fix(Applicability.SAFE, f"remove {', '.join(unused)} from the `# noqa`", (edit,))
    before, rest = line[: directive.column - 1], line[directive.end_column - 1 :]
    if not before.strip() and not rest.strip():
        edit = Edit(number, 1, number + 1, 1, "")  # a line that held only the comment
    elif rest.strip() and not rest.lstrip().startswith("#"):  # its explanation stays a comment
        end = directive.end_column + len(rest) - len(rest.lstrip())
        edit = Edit(number, directive.column, number, end, "# ")
    else:  # the directive goes with the spaces before it; other comment text stays
        start = len(before.rstrip()) + 1
        edit = Edit(number, start, number, directive.end_column, "")
    return Fix(Applicability.SAFE, "remove the unused `# noqa`", (edit,))
