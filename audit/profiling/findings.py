"""One normalised findings document for every run-time source, joined with static findings.

A site is *confirmed* when a static blocking finding (BLK1xx) sits on one of the project
frames of its stack (the call itself, or a call in the `async def` that reached it through a
helper); *run time only* otherwise — a hint that a rule or catalogue entry is missing.
Static findings that no site touched are *static only*: the run did not reach them, or they
were too short to matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.core.findings import Finding
from audit.profiling.blocks import Block
from audit.profiling.frames import ProjectFiles
from audit.profiling.sites import Site

VERSION = 1
CONFIRMED, RUNTIME_ONLY = "confirmed", "run time only"


def static_blocking_findings(root: Path, files: Sequence[Path]) -> list[Finding]:
    """BLK findings of the project at `root` plus the named files (even if excluded)."""
    from audit.engine.config import find_config, load_config
    from audit.engine.workspace import Workspace
    from audit.rules import BLOCKING

    config = load_config(find_config(root), default_root=root)
    result = Workspace(config).check(
        [root, *files], selection=config.selection(select=[BLOCKING]), cwd=root
    )
    return sorted(set(result.findings))


@dataclass(frozen=True)
class JoinedSite:
    site: Site
    static: tuple[Finding, ...]

    @property
    def status(self) -> str:
        return CONFIRMED if self.static else RUNTIME_ONLY


@dataclass(frozen=True)
class Profile:
    command: tuple[str, ...]
    sources: tuple[str, ...]
    threshold: float
    project: ProjectFiles
    sites: tuple[JoinedSite, ...]
    static_only: tuple[Finding, ...]
    static_checked: bool
    artifacts: tuple[str, ...] = ()

    @property
    def blocks(self) -> list[Block]:
        return [block for joined in self.sites for block in joined.site.blocks]

    def relative(self, file: str) -> str:
        return self.project.relative(file)

    def to_json(self) -> dict[str, Any]:
        sites = [self._site_json(joined) for joined in self.sites]
        return {
            "version": VERSION,
            "command": list(self.command),
            "root": str(self.project.root),
            "threshold_ms": round(self.threshold * 1000, 3),
            "sources": list(self.sources),
            "static_checked": self.static_checked,
            "summary": {
                "sites": len(self.sites),
                "blocks": len(self.blocks),
                "blocked_ms": round(sum(b.duration for b in self.blocks) * 1000, 3),
                "confirmed": sum(j.status == CONFIRMED for j in self.sites),
                "run_time_only": sum(j.status == RUNTIME_ONLY for j in self.sites),
                "static_only": len(self.static_only),
            },
            "sites": sites,
            "static_only": [finding.to_json() for finding in self.static_only],
            "artifacts": list(self.artifacts),
        }

    def _site_json(self, joined: JoinedSite) -> dict[str, Any]:
        site, place = joined.site, joined.site.place
        return {
            "file": self.relative(place.frame.file),
            "line": place.frame.line,
            "function": place.frame.function,
            "call": place.call,
            "leaf": {**place.leaf.to_json(), "file": self.relative(place.leaf.file)},
            "status": joined.status,
            "static": [
                {"path": f.path, "line": f.line, "code": f.code, "message": f.message}
                for f in joined.static
            ],
            "count": site.count,
            "total_ms": round(site.total * 1000, 3),
            "mean_ms": round(site.mean * 1000, 3),
            "p95_ms": round(site.p95 * 1000, 3),
            "max_ms": round(site.max * 1000, 3),
            "sources": list(site.sources),
            "labels": list(site.labels),
            "stack": [
                {**frame.to_json(), "file": self.relative(frame.file)}
                for frame in site.example.stack
            ],
            "blocks": [block.to_json() for block in site.blocks],
        }


def join(
    sites: Sequence[Site],
    static: Sequence[Finding],
    project: ProjectFiles,
) -> tuple[tuple[JoinedSite, ...], tuple[Finding, ...]]:
    """Pair each site with the static findings on its project frames."""
    by_place: dict[tuple[str, int], list[Finding]] = {}
    for finding in static:
        path = str((project.root / finding.path).resolve())
        by_place.setdefault((path, finding.line), []).append(finding)
    touched: set[Finding] = set()
    joined: list[JoinedSite] = []
    for site in sites:
        frames = {
            (frame.file, frame.line)
            for block in site.blocks
            for frame in block.stack
            if frame in project
        }
        found = sorted({f for place in frames for f in by_place.get(place, [])})
        touched.update(found)
        joined.append(JoinedSite(site, tuple(found)))
    left = tuple(finding for finding in static if finding not in touched)
    return tuple(joined), left


def write_blocks(
    path: Path, blocks: Sequence[Block], *, project: ProjectFiles, threshold: float, command: str
) -> None:
    """Write in-process (watchdog) blocks as a findings document `soni-audit profile --from`
    reads; static findings are joined there."""
    import json

    from audit.profiling.sites import group_sites

    joined, _ = join(group_sites(blocks, project), [], project)
    profile = Profile(
        command=(command,),
        sources=("watchdog",),
        threshold=threshold,
        project=project,
        sites=joined,
        static_only=(),
        static_checked=False,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(profile.to_json(), indent=2) + "\n", encoding="utf-8")
