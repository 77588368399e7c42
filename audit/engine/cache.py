"""The cache of per-file summaries and of the project pass, on disk or in memory.

On disk, one JSON file per (tool fingerprint, analysis settings) under the cache directory
maps each file's path to its content hash, summary, interprocedural facts and located calls,
so a warm run is one read and a few hashes. The project pass's findings are kept under a key
made of every file's hash: when no file changed, the call graph is not even loaded. Entries
are reused only when hashes match; the file is replaced atomically, so an interrupted or
concurrent run never leaves a corrupt cache. In memory (a long-lived workspace, such as a
language server's), the same entries live as long as the cache object.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from audit.core.facts import CallLocation, ModuleFacts
from audit.core.findings import FileSummary, Finding
from audit.core.settings import AnalysisSettings

_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by soni-audit.\n"
)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def project_key(keys: dict[str, str], options: str) -> str:
    """Changes when any file, the set of files or the project options change."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(options.encode())
    for path, key in sorted(keys.items()):
        digest.update(f"{path}\0{key}\0".encode())
    return digest.hexdigest()


def namespace(settings: AnalysisSettings) -> str:
    """Cache entries are valid for one build of the tool and one analysis configuration."""
    from audit.catalogue import catalogue_fingerprint

    package = Path(__file__).parents[1]  # the whole `audit` package
    digest = hashlib.blake2b(digest_size=8)
    for source in sorted(package.rglob("*.py")):
        stat = source.stat()
        digest.update(f"{source.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{digest.hexdigest()}-{catalogue_fingerprint()}-{settings.fingerprint()}"


class SummaryCache:
    """Summaries and project findings in one file; interprocedural facts and located calls
    in a second one, read only when the project pass has to run again. Summaries analysed
    by this process are also kept as they are, so the cache object serves them again
    without JSON. Without a directory, nothing is read or written (or serialised)."""

    def __init__(self, directory: Path | None, namespace: str) -> None:
        self.directory = directory
        self.file = directory / f"{namespace}.json" if directory is not None else None
        self.facts_file = directory / f"{namespace}.facts.json" if directory is not None else None
        data = _read_json(self.file) if self.file is not None else {}
        files, project = data.get("files"), data.get("project")
        self._entries: dict[str, dict[str, Any]] = files if isinstance(files, dict) else {}
        self._project: dict[str, Any] = project if isinstance(project, dict) else {}
        self._facts: dict[str, dict[str, Any]] | None = None
        self._live: dict[str, tuple[str, FileSummary]] = {}
        self._dirty = False
        self._facts_dirty = False

    def get(self, path: str, key: str) -> FileSummary | None:
        """The cached summary; one read from disk comes without its interprocedural facts
        (see `facts`)."""
        live = self._live.get(path)
        if live is not None and live[0] == key:
            return live[1]
        entry = self._entries.get(path)
        if entry is None or entry.get("key") != key:
            return None
        try:
            return FileSummary.from_json(entry["summary"])
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, path: str, key: str, summary: FileSummary) -> None:
        self._live[path] = (key, summary)
        if self.directory is None:
            return
        self._entries[path] = {"key": key, "summary": summary.to_json()}
        self._dirty = True
        self._facts_entries()[path] = {"key": key, "facts": summary.facts.to_json()}
        self._facts_dirty = True

    # -- project pass --------------------------------------------------------------------

    def project_findings(self, key: str) -> list[Finding] | None:
        if self._project.get("key") != key:
            return None
        try:
            return [Finding.from_json(item) for item in self._project["findings"]]
        except (KeyError, TypeError, ValueError):
            return None

    def put_project_findings(self, key: str, findings: list[Finding]) -> None:
        self._project = {"key": key, "findings": [f.to_json() for f in findings]}
        self._dirty = True

    def facts(self, path: str, key: str) -> ModuleFacts | None:
        live = self._live.get(path)
        if live is not None and live[0] == key:
            return live[1].facts
        entry = self._facts_entry(path, key)
        try:
            return ModuleFacts.from_json(entry["facts"]) if entry is not None else None
        except (KeyError, TypeError, ValueError):
            return None

    def locations(self, path: str, key: str) -> dict[int, CallLocation]:
        """Calls of this file located by an earlier run (valid while its content is)."""
        entry = self._facts_entry(path, key)
        try:
            return {
                int(call): CallLocation.from_json(data)
                for call, data in (entry or {}).get("locations", {}).items()
            }
        except (TypeError, ValueError):
            return {}

    def put_locations(self, path: str, key: str, located: dict[int, CallLocation]) -> None:
        entry = self._facts_entry(path, key)
        if entry is None:
            return
        stored = entry.setdefault("locations", {})
        for call, location in located.items():
            if str(call) not in stored:
                stored[str(call)] = location.to_json()
                self._facts_dirty = True

    def _facts_entries(self) -> dict[str, dict[str, Any]]:
        if self._facts is None:
            data = _read_json(self.facts_file) if self.facts_file is not None else {}
            self._facts = data if all(isinstance(v, dict) for v in data.values()) else {}
        return self._facts

    def _facts_entry(self, path: str, key: str) -> dict[str, Any] | None:
        entry = self._facts_entries().get(path)
        return entry if entry is not None and entry.get("key") == key else None

    # -- writing -------------------------------------------------------------------------

    def save(self, root: Path) -> None:
        """Write what changed back, dropping entries whose files no longer exist."""
        stale = [path for path in {*self._entries, *self._live} if not (root / path).exists()]
        for path in stale:
            self._entries.pop(path, None)
            self._live.pop(path, None)
        if (self._dirty or stale) and self.file is not None:
            self._write(self.file, {"files": self._entries, "project": self._project})
        if self._facts is not None:
            gone = [path for path in self._facts if path not in self._entries]
            for path in gone:
                del self._facts[path]
            if (self._facts_dirty or gone) and self.facts_file is not None:
                self._write(self.facts_file, self._facts)
        self._dirty = self._facts_dirty = False

    def _write(self, target: Path, document: dict[str, Any]) -> None:
        if self.directory is None:
            return
        try:
            self._prepare_directory()
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        except OSError:
            return  # a read-only checkout still gets its results, only not the speed-up
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream, separators=(",", ":"))
            os.replace(temporary, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _prepare_directory(self) -> None:
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        top = self.directory.parent
        for name, content in (("CACHEDIR.TAG", _CACHEDIR_TAG), (".gitignore", "*\n")):
            marker = top / name
            if not marker.exists():
                marker.write_text(content, encoding="utf-8")
