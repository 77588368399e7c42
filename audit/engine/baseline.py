"""Baselines: record today's findings once (`--write-baseline`), then fail only on new ones
(`--baseline FILE`, or `baseline = "..."` in `[tool.soni-audit]`).

A finding is known by its file, code, function, the text of the code it flags (whitespace
collapsed) and its rank among the findings that share all of those. A line inserted above it
or an edit elsewhere in the file does not make it new; moving it to another file does. The
file is JSON with one sorted entry per finding, so a change to it reads well in review.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from audit.core.findings import Finding
from audit.core.sources import decoded

FORMAT_VERSION = 1
_TEXT_LIMIT = 160


class BaselineError(Exception):
    """The baseline file is missing or malformed (the message names it)."""


@dataclass(frozen=True, order=True)
class Entry:
    path: str
    code: str
    function: str
    text: str
    occurrence: int


@dataclass(frozen=True)
class Split:
    """Findings not in the baseline, those it knows, and its entries no finding matched."""

    new: tuple[Finding, ...]
    known: tuple[Finding, ...]
    stale: tuple[Entry, ...]


def entries(findings: Iterable[Finding], sources: Mapping[str, bytes]) -> list[Entry]:
    """The entry of each finding (paths relative to the root, as in `sources`), in order."""
    ordered = list(findings)
    lines: dict[str, list[str]] = {}
    seen: dict[tuple[str, str, str, str], int] = {}
    result: dict[int, Entry] = {}
    for index in sorted(range(len(ordered)), key=lambda i: ordered[i]):
        finding = ordered[index]
        if finding.path not in lines:
            data = sources.get(finding.path, b"")
            try:
                lines[finding.path] = decoded(data)[0].splitlines()
            except (SyntaxError, UnicodeDecodeError, LookupError):
                lines[finding.path] = []
        text = _flagged(lines[finding.path], finding)
        key = (finding.path, finding.code, finding.function or "", text)
        seen[key] = seen.get(key, 0) + 1
        result[index] = Entry(*key, seen[key])
    return [result[index] for index in range(len(ordered))]


def split(
    findings: Sequence[Finding],
    sources: Mapping[str, bytes],
    baseline: frozenset[Entry],
    *,
    checked: frozenset[str],
    selected: Iterable[str],
) -> Split:
    """`checked` are the files of this run and `selected` its codes: entries of other files
    or rules are not stale, only out of this run's sight."""
    codes = frozenset(selected)
    new, known, matched = [], [], set()
    for finding, entry in zip(findings, entries(findings, sources), strict=True):
        if entry in baseline:
            known.append(finding)
            matched.add(entry)
        else:
            new.append(finding)
    stale = sorted(
        entry for entry in baseline - matched if entry.path in checked and entry.code in codes
    )
    return Split(tuple(new), tuple(known), tuple(stale))


def read_baseline(path: Path) -> frozenset[Entry]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BaselineError(
            f"{path}: no such baseline file (write one with --write-baseline)"
        ) from error
    except (OSError, ValueError) as error:
        raise BaselineError(f"{path}: not a baseline file: {error}") from error
    items = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise BaselineError(f'{path}: expected {{"version": 1, "findings": [...]}}')
    found = set()
    for number, item in enumerate(items, start=1):
        try:
            found.add(Entry(**item))
        except TypeError as error:
            raise BaselineError(f"{path}: entry {number} is malformed: {item!r}") from error
    return frozenset(found)


def write_baseline(path: Path, found: Iterable[Entry]) -> int:
    """Write the entries, sorted; return how many."""
    ordered = sorted(set(found))
    document = {"version": FORMAT_VERSION, "findings": [asdict(entry) for entry in ordered]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(ordered)


def _flagged(lines: list[str], finding: Finding) -> str:
    """The code a finding flags, whitespace collapsed (its line when out of range)."""
    if not 1 <= finding.line <= len(lines):
        return ""
    if finding.end_line == finding.line:
        text = lines[finding.line - 1][finding.column - 1 : finding.end_column - 1]
    else:
        first = lines[finding.line - 1][finding.column - 1 :]
        middle = lines[finding.line : finding.end_line - 1]
        last = (
            lines[finding.end_line - 1][: finding.end_column - 1]
            if finding.end_line <= len(lines)
            else ""
        )
        text = " ".join([first, *middle, last])
    collapsed = " ".join(text.split())
    return collapsed[:_TEXT_LIMIT] or " ".join(lines[finding.line - 1].split())[:_TEXT_LIMIT]
