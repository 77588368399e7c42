"""Group blocks by the project frame they are charged to, with duration statistics."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from audit.profiling.attribution import Place, place_of
from audit.profiling.blocks import Block
from audit.profiling.frames import Frame, ProjectFiles


@dataclass(frozen=True)
class Site:
    place: Place
    blocks: tuple[Block, ...]

    @cached_property
    def durations(self) -> list[float]:
        """Ascending; every statistic below reads it, so it is sorted once."""
        return sorted(block.duration for block in self.blocks)

    @property
    def count(self) -> int:
        return len(self.blocks)

    @property
    def total(self) -> float:
        return sum(self.durations)

    @property
    def mean(self) -> float:
        return self.total / self.count

    @property
    def p95(self) -> float:
        return percentile(self.durations, 0.95)

    @property
    def max(self) -> float:
        return self.durations[-1]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({block.source for block in self.blocks}))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(sorted({block.label for block in self.blocks if block.label}))

    @property
    def example(self) -> Block:
        """The longest block: its stack is the one shown."""
        return max(self.blocks, key=lambda block: block.duration)


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def group_sites(blocks: Iterable[Block], project: ProjectFiles) -> list[Site]:
    """One site per project frame (call and leaf from its longest block), longest total
    blocked time first."""
    by_frame: dict[Frame, list[Block]] = defaultdict(list)
    for block in blocks:
        by_frame[place_of(block.stack, project).frame].append(block)
    sites = []
    for found in by_frame.values():
        longest = max(found, key=lambda block: block.duration)
        sites.append(Site(place_of(longest.stack, project), tuple(found)))
    return sorted(sites, key=lambda site: (-site.total, site.place))
