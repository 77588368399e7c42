"""One file as the audit reads it: its path, module name, whether it is a package, and its
bytes. Every stage (checking, locating calls, reports) gets these from here, so a file is
named and judged a package (`__init__.py`, `__init__.pyi`) one way only."""

from __future__ import annotations

import hashlib
import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from audit.core.modules import module_name


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the project root, with forward slashes
    module: str
    is_package: bool
    data: bytes

    @cached_property
    def key(self) -> str:
        """What the cache knows this content by."""
        return content_hash(self.path, self.module, self.data)


def content_hash(path: str, module: str, data: bytes) -> str:
    """What the cache knows a file's content by (its names are part of it)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{path}\0{module}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def relative_path(file: Path, root: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def read_source(
    file: Path, root: Path, source_roots: Sequence[Path], data: bytes | None = None
) -> SourceFile:
    """The file's names and its bytes (`data` when given: a version held in memory); raises
    OSError when it cannot be read."""
    module, is_package = module_name(file, source_roots)
    if data is None:
        data = file.read_bytes()
    return SourceFile(relative_path(file, root), module, is_package, data)


def decoded(data: bytes) -> tuple[str, str]:
    """The text and the encoding to write it back with, as Python reads source (a PEP 263
    cookie, a BOM, else UTF-8); raises SyntaxError, UnicodeDecodeError or LookupError."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding
