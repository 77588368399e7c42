"""Module names from file paths: the chain of parent directories holding `__init__.py`."""

from __future__ import annotations

from pathlib import Path


def module_name(path: Path) -> tuple[str, bool]:
    """`(dotted name, is_package)`, e.g. `soni/core/types.py` -> `("soni.core.types", False)`.

    Stops at the first directory without `__init__.py`, so `src/` layouts and scripts
    outside packages get the right (short) names.
    """
    is_package = path.stem == "__init__"
    parts = [] if is_package else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.name.isidentifier():
        parts.append(directory.name)
        if directory.parent == directory:
            break
        directory = directory.parent
    return ".".join(reversed(parts)) or path.stem, is_package
