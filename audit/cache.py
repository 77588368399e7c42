"""The on-disk cache of per-file summaries.

One JSON file per (tool fingerprint, analysis settings) under the cache directory maps each
file's path to its content hash and summary, so a warm run is one read and a few hashes.
Entries are reused only when the hash of the file's bytes matches; the file is replaced
atomically, so an interrupted or concurrent run never leaves a corrupt cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from audit.findings import FileSummary

_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by soni-audit.\n"
)


def content_hash(path: str, module: str, data: bytes) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{path}\0{module}\0".encode())
    digest.update(data)
    return digest.hexdigest()


class SummaryCache:
    def __init__(self, directory: Path, namespace: str) -> None:
        self.directory = directory
        self.file = directory / f"{namespace}.json"
        self._entries: dict[str, dict[str, Any]] = self._load()
        self._dirty = False

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, path: str, key: str) -> FileSummary | None:
        entry = self._entries.get(path)
        if entry is None or entry.get("key") != key:
            return None
        try:
            return FileSummary.from_json(entry["summary"])
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, path: str, key: str, summary: FileSummary) -> None:
        self._entries[path] = {"key": key, "summary": summary.to_json()}
        self._dirty = True

    def save(self, root: Path) -> None:
        """Write the cache back, dropping entries whose files no longer exist."""
        stale = [path for path in self._entries if not (root / path).exists()]
        for path in stale:
            del self._entries[path]
        if not self._dirty and not stale:
            return
        try:
            self._prepare_directory()
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        except OSError:
            return  # a read-only checkout still gets its results, only not the speed-up
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(self._entries, stream, separators=(",", ":"))
            os.replace(temporary, self.file)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _prepare_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        top = self.directory.parent
        for name, content in (("CACHEDIR.TAG", _CACHEDIR_TAG), (".gitignore", "*\n")):
            marker = top / name
            if not marker.exists():
                marker.write_text(content, encoding="utf-8")
