"""The purpose-built profiling workload (`tests/fixtures/profiling/workload.py`): its marked
blocks, the durations it measured itself, and what a harness reported of each."""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness import REPO

WORKLOAD = REPO / "tests" / "fixtures" / "profiling" / "workload.py"
ROOT = WORKLOAD.parent


def pyspy_problem() -> str | None:
    """Why py-spy cannot profile the workload here, or None when it can."""
    from audit.profiling.errors import ProfileError
    from audit.profiling.pyspy import Permission, find_pyspy

    try:
        find_pyspy()
    except ProfileError as error:
        return str(error)
    return Permission.check(attach=False).problem


def marked_lines() -> dict[int, str]:
    """Line number -> block name, from the `# block: NAME` markers."""
    lines = WORKLOAD.read_text(encoding="utf-8").splitlines()
    return {
        number: match.group(1)
        for number, text in enumerate(lines, start=1)
        if (match := re.search(r"# block: ([\w-]+)", text))
    }


def workload_command(truth: Path, *extra: str, loop: str = "asyncio", rounds: int = 3) -> list[str]:
    return [
        sys.executable,
        str(WORKLOAD),
        "--truth",
        str(truth),
        "--loop",
        loop,
        "--rounds",
        str(rounds),
        *extra,
    ]


Durations = dict[str, list[float]]


def sites_by_name(sites: list[dict[str, Any]]) -> tuple[Durations, list[Any]]:
    """Block durations (ms) per marked block name from `profile.json` sites, in time order;
    the sites at unmarked lines apart."""
    names = marked_lines()
    found: Durations = defaultdict(list)
    unknown = []
    for site in sites:
        name = names.get(site["line"]) if site["file"] == WORKLOAD.name else None
        if name is None:
            unknown.append((site["file"], site["line"], site["function"]))
        else:
            found[name] += [block["duration_ms"] for block in site["blocks"]]
    return found, unknown


def blocks_by_name(blocks: list[dict[str, Any]]) -> tuple[Durations, list[Any]]:
    """The same for raw watchdog blocks, each charged to its innermost workload frame."""
    names = marked_lines()
    found: Durations = defaultdict(list)
    unknown = []
    for block in blocks:
        ours = [frame for frame in block["stack"] if frame["file"] == str(WORKLOAD)]
        name = names.get(ours[-1]["line"]) if ours else None
        if name is None:
            unknown.append(ours[-1] if ours else block["stack"][-1])
        else:
            found[name].append(block["duration_ms"])
    return found, unknown


def truth_by_name(truth: Path) -> Durations:
    measured: dict[str, list[float]] = defaultdict(list)
    for entry in json.loads(truth.read_text(encoding="utf-8")):
        measured[entry["name"]].append(entry["ms"])
    return measured
