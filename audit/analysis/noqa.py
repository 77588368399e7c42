"""Reading `# noqa` comments.

Like flake8, the comment is matched on the physical line where a finding starts:
`# noqa` silences every code, `# noqa: BLK100, BLK101` only those (a prefix such as `BLK`
selects a family). `# soni-audit: noqa[: codes]` on a line of its own silences the file.
Comments are found as the tokenizer finds them: `# noqa` inside a string is not one.
"""

from __future__ import annotations

import re

from audit.analysis.comments import scan_comments
from audit.core.findings import NoqaComment, Suppressions

_CODES = r"[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*"
_LINE = re.compile(rf"#\s*noqa(?::\s*(?P<codes>{_CODES}))?", re.IGNORECASE)
_FILE = re.compile(rf"^#\s*soni-audit\s*:\s*noqa(?::\s*(?P<codes>{_CODES}))?\s*$", re.IGNORECASE)
_ANY = re.compile("noqa", re.IGNORECASE)


def _codes(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(code.upper() for code in re.split(r"[\s,]+", text) if code)


def parse_suppressions(text: str) -> Suppressions:
    if _ANY.search(text) is None:  # matched in any case: the comments are case-insensitive
        return Suppressions()
    lines: dict[int, frozenset[str]] = {}
    directives: list[NoqaComment] = []
    whole_file_codes: set[str] = set()
    whole_file_all = False
    for comment in scan_comments(text):
        if "noqa" not in comment.text.lower():
            continue
        whole_file = _FILE.match(comment.text)
        if whole_file is not None:
            own_line = not text.splitlines()[comment.line - 1][: comment.column - 1].strip()
            if own_line:
                codes = _codes(whole_file.group("codes"))
                whole_file_all = whole_file_all or not codes
                whole_file_codes.update(codes)
                continue
        match = _LINE.search(comment.text)
        if match is not None:
            codes = _codes(match.group("codes"))
            lines[comment.line] = frozenset(codes)
            start = comment.column + match.start()
            end = comment.column + match.end()
            directives.append(NoqaComment(comment.line, start, end, codes))
    file_codes = frozenset() if whole_file_all else frozenset(whole_file_codes) or None
    return Suppressions(lines, file_codes, tuple(directives))
