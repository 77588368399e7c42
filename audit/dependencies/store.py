"""JSON documents in soni-audit's user cache directory (`$XDG_CACHE_HOME/soni-audit`, else
`~/.cache/soni-audit`), shared by every project on the machine.

Without a directory (`--no-cache`) documents live in memory for the run. A directory that
cannot be written degrades to memory with one warning: results stay the same, only the next
run pays again.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def user_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "soni-audit"


class JsonStore:
    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[str, dict[str, Any]] = {}
        self.writable = directory is not None

    def read(self, name: str) -> dict[str, Any] | None:
        if name in self._memory:
            return self._memory[name]
        if self.directory is None:
            return None
        try:
            data = json.loads((self.directory / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        self._memory[name] = data
        return data

    def write(self, name: str, document: dict[str, Any]) -> None:
        self._memory[name] = document
        if self.directory is None or not self.writable:
            return
        target = self.directory / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        except OSError as error:
            self._degrade(error)
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream, separators=(",", ":"))
            os.replace(temporary, target)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            self._degrade(error)

    def _degrade(self, error: OSError) -> None:
        """Keep new documents in memory from now on, and say so (once: no write is tried
        again)."""
        reason = error.strerror or str(error)
        print(
            f"soni-audit: warning: cannot write the dependency cache in {self.directory} "
            f"({reason}); library summaries are kept in memory for this run",
            file=sys.stderr,
        )
        self.writable = False
