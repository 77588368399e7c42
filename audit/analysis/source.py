"""Turning a file's bytes into text, or into a precise reason why that is impossible."""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True)
class SourceProblem:
    """Why a file cannot be analysed, with the 1-based position of the cause."""

    message: str
    line: int = 1
    column: int = 1


def decode_source(data: bytes) -> str | SourceProblem:
    """Decode with the encoding Python would use (PEP 263 cookie, BOM, else UTF-8)."""
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        return SourceProblem("binary file: contains a NUL byte", line)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        return SourceProblem(f"bad encoding declaration: {error.msg}", error.lineno or 1)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return SourceProblem(
            f"cannot decode as {encoding}: byte 0x{data[error.start]:02x} is invalid", line, column
        )
    except LookupError:
        return SourceProblem(f"unknown encoding {encoding!r}")


def parse_source(text: str) -> cst.Module | SourceProblem:
    """Parse with libcst; on failure, ask Python's own parser for a precise message."""
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        try:
            ast.parse(text)
        except SyntaxError as precise:
            return SourceProblem(
                f"syntax error: {precise.msg}", precise.lineno or 1, precise.offset or 1
            )
        except (ValueError, RecursionError, MemoryError) as other:
            return SourceProblem(f"syntax error: {other}")
        return SourceProblem(
            f"libcst cannot parse this file: {error.message}", error.raw_line, error.raw_column + 1
        )
    except RecursionError:
        return SourceProblem("too deeply nested to parse")
    except UnicodeEncodeError as error:  # a lone surrogate, decoded from an escape codec
        line = text[: error.start].count("\n") + 1
        code = ord(text[error.start])
        return SourceProblem(f"the decoded text holds a lone surrogate U+{code:04X}", line)
