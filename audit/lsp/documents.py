"""What the server knows of each open buffer, and when its next check runs.

A buffer's findings are kept with the version they were computed for. When the buffer stops
parsing (AUD900) or soni-audit fails on it (AUD901), the last good findings stay visible
beside that diagnostic, so a half-typed line does not wipe the editor's picture.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from audit.lsp.diagnostics import unanalysed
from audit.lsp.engine import Finding, Project

_generations = itertools.count(1)


@dataclass
class Document:
    uri: str
    path: Path
    findings: list[Finding] = field(default_factory=list)  # what the editor is shown
    good: list[Finding] = field(default_factory=list)  # the last analysis that succeeded
    version: int | None = None  # the buffer version `findings` belong to
    result_id: str = ""  # changes whenever `findings` do (pull diagnostics)
    project: Project | None = None  # the project of the last check

    def record(self, version: int | None, findings: list[Finding], project: Project) -> None:
        problems = [finding for finding in findings if unanalysed(finding)]
        if problems:
            findings = [*self.good, *problems]
        else:
            self.good = findings
        self.findings, self.version, self.project = findings, version, project
        self.result_id = str(next(_generations))


class Debouncer:
    """Runs `check(uri)` once a buffer has been quiet for `delay` seconds. A change that
    arrives during a check asks for one more check after it: one buffer is never checked
    twice at once, and a burst of keystrokes costs one or two checks, not one each."""

    def __init__(self, check: Callable[[str], Awaitable[None]], delay: float) -> None:
        self._check = check
        self.delay = delay
        self._waiting: dict[str, asyncio.Task[None]] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()

    def touch(self, uri: str, delay: float | None = None) -> None:
        if uri in self._running:
            self._again.add(uri)
            return
        waiting = self._waiting.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        pause = self.delay if delay is None else delay
        self._waiting[uri] = asyncio.create_task(self._after(uri, pause))

    async def _after(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        task = self._waiting.pop(uri)
        self._running[uri] = task
        try:
            await self._check(uri)
        finally:
            del self._running[uri]
            if uri in self._again:
                self._again.discard(uri)
                self.touch(uri, 0)

    async def settle(self, uri: str) -> None:
        """Wait until no check of the buffer is due or under way."""
        while (task := self._waiting.get(uri) or self._running.get(uri)) is not None:
            await asyncio.wait({task})

    def forget(self, uri: str) -> None:
        self._again.discard(uri)
        waiting = self._waiting.pop(uri, None)
        if waiting is not None:
            waiting.cancel()

    def stop(self) -> None:
        for task in [*self._waiting.values(), *self._running.values()]:
            task.cancel()
        self._waiting.clear()
        self._again.clear()
