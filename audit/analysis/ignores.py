"""Type-checker escape hatches in a file: `type: ignore`, `pyright: ignore`, `ty: ignore`,
file-level `mypy:`/`pyright:` settings that switch checking off, and `@no_type_check`."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass

from audit.analysis.comments import Comment, first_statement_line, scan_comments

# A directive may follow other text in the same comment (`# fmt: skip` then the ignore);
# one quoted in backticks or quotes is documentation, not a directive.
_IGNORE = re.compile(
    r"(?<![`'\"])#\s*(?P<tool>type|pyright|ty)\s*:\s*ignore\b(?:\s*\[(?P<codes>[^\]#]*)\])?",
)
_MYPY_SETTINGS = re.compile(r"^#\s*mypy\s*:\s*(?P<settings>.+)$")
_MYPY_ESCAPES = re.compile(r"\b(ignore[-_]errors|disable[-_]error[-_]code)\b")
_PYRIGHT_SETTINGS = re.compile(
    r"^#\s*pyright\s*:\s*(?P<settings>basic\b.*|report\w+\s*=\s*(?:false|none|\"none\").*)$"
)
PREFILTER = re.compile(r"#\s*(?:type|pyright|ty|mypy)\s*:")


class IgnoreKind(enum.Enum):
    BLANKET = "blanket"  # an ignore without error codes
    CODED = "coded"  # an ignore naming its error codes
    OTHER_CHECKER = "other checker"  # pyright's or ty's ignore comments
    FILE_LEVEL = "file level"  # switches checking off for a whole file or function


@dataclass(frozen=True)
class Ignore:
    kind: IgnoreKind
    line: int
    column: int
    end_column: int
    text: str
    tool: str
    codes: tuple[str, ...] = ()
    misplaced: bool = False  # after other text in its comment: mypy does not read it there


def find_ignores(text: str) -> list[Ignore]:
    """Every escape written in a comment (decorators are found by the TIG104 rule)."""
    if not PREFILTER.search(text):
        return []
    first_statement = first_statement_line(text)
    found: list[Ignore] = []
    for comment in scan_comments(text):
        found.extend(_from_comment(comment, first_statement))
    return found


def _from_comment(comment: Comment, first_statement: int) -> Iterator[Ignore]:
    own_line_before_code = first_statement == 0 or comment.line < first_statement
    settings = _MYPY_SETTINGS.match(comment.text)
    if settings is not None and _MYPY_ESCAPES.search(settings.group("settings")):
        yield _ignore(IgnoreKind.FILE_LEVEL, comment, 0, len(comment.text), "mypy")
        return
    if _PYRIGHT_SETTINGS.match(comment.text):
        yield _ignore(IgnoreKind.FILE_LEVEL, comment, 0, len(comment.text), "pyright")
        return
    for match in _IGNORE.finditer(comment.text):
        tool = match.group("tool")
        raw_codes = match.group("codes")
        codes = tuple(c.strip() for c in raw_codes.split(",") if c.strip()) if raw_codes else ()
        if tool != "type":
            kind = IgnoreKind.OTHER_CHECKER
        elif own_line_before_code and match.start() == 0 and not codes:
            kind = IgnoreKind.FILE_LEVEL
        else:
            kind = IgnoreKind.CODED if codes else IgnoreKind.BLANKET
        misplaced = tool == "type" and match.start() > 0
        yield _ignore(kind, comment, match.start(), match.end(), tool, codes, misplaced)


def _ignore(
    kind: IgnoreKind,
    comment: Comment,
    start: int,
    end: int,
    tool: str,
    codes: tuple[str, ...] = (),
    misplaced: bool = False,
) -> Ignore:
    return Ignore(
        kind,
        comment.line,
        comment.column + start,
        comment.column + end,
        comment.text[start:end],
        tool,
        codes,
        misplaced,
    )
