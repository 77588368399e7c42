"""Module names from file paths.

A file inside regular packages is named by its chain of parent directories holding
`__init__.py` (`soni/core/types.py` -> `soni.core.types`), which also gets `src/` layouts
right. A file whose directory is not a package (a namespace package, a scripts folder) is
named by its path below the deepest source root that contains it (`src` setting, default
the project root and `src/`), as Python would import it from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def module_name(path: Path, source_roots: Sequence[Path] = ()) -> tuple[str, bool]:
    """`(dotted name, is_package)` of a Python file."""
    is_package = path.stem == "__init__"
    if (path.parent / "__init__.py").is_file():
        return _package_chain(path, is_package), is_package
    containing = [root for root in source_roots if root in path.parents]
    if containing:
        root = max(containing, key=lambda r: len(r.parts))
        parts = list(path.relative_to(root).with_suffix("").parts)
        if is_package:
            parts = parts[:-1]
        if parts and all(part.isidentifier() for part in parts):
            return ".".join(parts), is_package
    return path.stem, is_package


def _package_chain(path: Path, is_package: bool) -> str:
    parts = [] if is_package else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.name.isidentifier():
        parts.append(directory.name)
        if directory.parent == directory:
            break
        directory = directory.parent
    return ".".join(reversed(parts)) or path.stem
