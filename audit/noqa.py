"""Reading `# noqa` comments.

Like flake8, the comment is matched on the physical line where a finding starts:
`# noqa` silences every code, `# noqa: BLK100, BLK101` only those (a prefix such as `BLK`
selects a family). `# soni-audit: noqa[: codes]` on a line of its own silences the file.
"""

from __future__ import annotations

import re

from audit.findings import Suppressions

_CODES = r"[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*"
_LINE = re.compile(rf"#\s*noqa(?::\s*(?P<codes>{_CODES}))?", re.IGNORECASE)
_FILE = re.compile(rf"^\s*#\s*soni-audit\s*:\s*noqa(?::\s*(?P<codes>{_CODES}))?\s*$", re.IGNORECASE)
_ANY = re.compile("noqa", re.IGNORECASE)


def _codes(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    return frozenset(code.upper() for code in re.split(r"[\s,]+", text) if code)


def parse_suppressions(text: str) -> Suppressions:
    if _ANY.search(text) is None:  # `# NoQA` counts too: the comments are case-insensitive
        return Suppressions()
    lines: dict[int, frozenset[str]] = {}
    whole_file_codes: set[str] = set()
    whole_file_all = False
    for number, line in enumerate(text.splitlines(), start=1):
        if "noqa" not in line.lower():
            continue
        whole_file = _FILE.match(line)
        if whole_file is not None:
            codes = _codes(whole_file.group("codes"))
            whole_file_all = whole_file_all or not codes
            whole_file_codes |= codes
            continue
        match = _LINE.search(line)
        if match is not None:
            lines[number] = _codes(match.group("codes"))
    if whole_file_all:
        return Suppressions(lines, frozenset())
    return Suppressions(lines, frozenset(whole_file_codes) if whole_file_codes else None)
