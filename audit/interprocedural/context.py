"""What project-level rules see, and what they report.

Project rules report calls by reference (file and call ordinal): the runner locates every
referenced call of the run at once, one analysis per file, and reuses locations cached for
unchanged files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from audit.findings import FileSummary
from audit.interprocedural.project import Project


@dataclass(frozen=True)
class CallRef:
    path: str
    call: int


@dataclass(frozen=True)
class PendingFinding:
    """A finding at a call not located yet. `message` is a template: `{call}` becomes the
    callee as written at `site` (`{receiver}` the object it is called on), and each name in
    `places` becomes `path:line` of that call.
    """

    code: str
    site: CallRef
    message: str
    function: str | None = None
    chain: tuple[str, ...] = ()
    places: Mapping[str, CallRef] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectContext:
    project: Project
    summaries: Mapping[str, FileSummary]

    @classmethod
    def build(
        cls, summaries: Mapping[str, FileSummary], nonblocking: frozenset[str] = frozenset()
    ) -> ProjectContext:
        return cls(Project(summaries.values(), nonblocking), summaries)
