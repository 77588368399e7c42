"""Where something is in a file (kept free of libcst so cached runs never import it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """1-based line and column of the first character; the end is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int
