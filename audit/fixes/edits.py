"""Plain edits on a file's text: where they fall, whether two fixes collide, and applying a
set of them. Lines and columns are 1-based and counted like a finding's (characters; a line
ends at `\\n`, so a `\\r\\n` file keeps its `\\r` in place)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.core.findings import Edit, Fix


@dataclass(frozen=True)
class Placed:
    """An edit at character offsets `start`..`end` of the text."""

    start: int
    end: int
    content: str


class Text:
    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0]
        newline = text.find("\n")
        while newline >= 0:
            self._starts.append(newline + 1)
            newline = text.find("\n", newline + 1)

    def offset(self, line: int, column: int) -> int:
        """The offset of a position; a line just past the end is the end of the text."""
        if line > len(self._starts):
            return len(self.text)
        start = self._starts[line - 1]
        end = self._starts[line] if line < len(self._starts) else len(self.text)
        return min(start + column - 1, end)

    def place(self, edit: Edit) -> Placed:
        start = self.offset(edit.line, edit.column)
        end = self.offset(edit.end_line, edit.end_column)
        content = edit.content
        past_the_end = edit.line > len(self._starts) and start == end == len(self.text)
        if past_the_end and self.text and not self.text.endswith("\n"):
            # A new line after the last one of a file that does not end in a newline.
            content = _newline_of(self.text) + content
        return Placed(start, end, content)

    def places(self, fix: Fix) -> list[Placed]:
        return [self.place(edit) for edit in fix.edits]


def collide(ours: Iterable[Placed], theirs: Iterable[Placed]) -> bool:
    """Whether two sets of edits touch the same text. Insertions never collide with each
    other (at one place they go in the order the fixes were taken: two copies on entry, two
    imports) nor with a replacement they border; an identical edit is shared."""
    accepted = list(theirs)
    for edit in ours:
        for other in accepted:
            if edit == other:
                continue
            if edit.start == edit.end or other.start == other.end:
                point, span = (edit, other) if edit.start == edit.end else (other, edit)
                if span.start < point.start < span.end:
                    return True
            elif edit.start < other.end and other.start < edit.end:
                return True
    return False


def apply(text: str, edits: Sequence[Placed]) -> str:
    """The text with every edit made, identical edits once; insertions at one place keep
    the order they were given in."""
    unique = list(dict.fromkeys(edits))
    order = sorted(range(len(unique)), key=lambda i: (unique[i].start, unique[i].end, i))
    for index in reversed(order):
        edit = unique[index]
        text = text[: edit.start] + edit.content + text[edit.end :]
    return text


def _newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"
