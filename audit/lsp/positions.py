"""Positions between soni-audit (1-based lines and columns counted in characters, a line
ending at `\\n`) and an LSP client (0-based, columns in the code units the client and the
server agreed on at initialisation: UTF-16 unless the client offers UTF-8 or UTF-32)."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

_WIDTH: dict[str, Callable[[str], int]] = {
    types.PositionEncodingKind.Utf8: lambda c: len(c.encode("utf-8", "surrogatepass")),
    types.PositionEncodingKind.Utf16: lambda c: 2 if ord(c) > 0xFFFF else 1,
    types.PositionEncodingKind.Utf32: lambda c: 1,
}


class Lines:
    """A buffer's lines, to convert positions in both directions."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.lines = text.split("\n")
        self.width = _WIDTH.get(encoding, _WIDTH[types.PositionEncodingKind.Utf16])

    def position(self, line: int, column: int) -> types.Position:
        """The client position of a 1-based (line, column); past the end is the end."""
        if line > len(self.lines):
            return types.Position(len(self.lines) - 1, self._units(len(self.lines) - 1, None))
        return types.Position(line - 1, self._units(line - 1, column - 1))

    def range(self, line: int, column: int, end_line: int, end_column: int) -> types.Range:
        return types.Range(self.position(line, column), self.position(end_line, end_column))

    def point(self, position: types.Position) -> tuple[int, int]:
        """The 1-based (line, column) of a client position."""
        if position.line >= len(self.lines):
            return len(self.lines) + 1, 1
        text = self.lines[position.line]
        units = column = 0
        for char in text:
            if units >= position.character:
                break
            units += self.width(char)
            column += 1
        return position.line + 1, column + 1

    def _units(self, index: int, characters: int | None) -> int:
        text = self.lines[index].rstrip("\r") if characters is None else self.lines[index]
        return sum(self.width(char) for char in text[:characters])
