"""What project-level rules see, and what they report.

Project rules name calls by reference (file and call ordinal): the engine locates every
referenced call of the run at once, one analysis per file, and reuses locations cached for
unchanged files. A rule words its message once the calls it names are located.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from audit.core.facts import CallLocation
from audit.core.findings import FileSummary
from audit.core.libraries import LibraryFile
from audit.interprocedural.project import Project

if TYPE_CHECKING:
    from audit.analysis.context import FileContext
    from audit.analysis.model import CallSite
    from audit.fixes.plan import Planned

# Plans the fix of a project finding, on the file and the call it was found at.
FixBuilder = Callable[["FileContext", "CallSite"], "Planned"]


@dataclass(frozen=True)
class CallRef:
    path: str
    call: int


@dataclass(frozen=True)
class Located:
    """The calls a project finding names, once located."""

    locations: Mapping[CallRef, CallLocation]

    def written(self, ref: CallRef) -> str:
        """The callee as written at the call (`self.store.load`)."""
        location = self.locations.get(ref)
        return location.text if location is not None else "?"

    def receiver(self, ref: CallRef) -> str:
        """The object the callee is looked up on (`self.store`), or the callee itself."""
        written = self.written(ref)
        return written.rpartition(".")[0] or written

    def place(self, ref: CallRef) -> str:
        """`path:line` of the call (the path alone when it cannot be located)."""
        location = self.locations.get(ref)
        return f"{ref.path}:{location.span.line}" if location is not None else ref.path


@dataclass(frozen=True)
class Hop:
    """A further call a finding points at (one step of a chain), with what happens there."""

    call: CallRef
    message: str


@dataclass(frozen=True)
class ProjectFinding:
    """A finding at a call not located yet; `message` words it from the located calls."""

    code: str
    site: CallRef
    message: Callable[[Located], str]
    function: str | None = None
    chain: tuple[str, ...] = ()
    hops: tuple[Hop, ...] = ()
    fix: FixBuilder | None = None


@dataclass(frozen=True)
class ProjectContext:
    project: Project
    summaries: Mapping[str, FileSummary]
    libraries: Mapping[str, LibraryFile] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        summaries: Mapping[str, FileSummary],
        nonblocking: frozenset[str] = frozenset(),
        focus: frozenset[str] | None = None,
        libraries: Mapping[str, LibraryFile] | None = None,
        version: tuple[int, int] | None = None,
    ) -> ProjectContext:
        """`focus`: the files whose findings are wanted (None: all of them); `libraries`:
        which summaries are installed libraries' files (`check --dependencies`); `version`:
        the target interpreter, as the per-file pass had it (default: the running one)."""
        libraries = libraries or {}
        target = version or sys.version_info[:2]
        graph = Project(
            summaries.values(), nonblocking, focus, frozenset(libraries), version=target
        )
        return cls(graph, summaries, libraries)
