"""The audit benchmarks' corpus: ~140k lines of published third-party code, installed from
PyPI into a scratch directory, never our own code."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PACKAGES = (
    "fastapi",
    "starlette",
    "langgraph",
    "langchain-core",
    "langgraph-checkpoint",
    "langgraph-prebuilt",
)
SOURCES = ("fastapi", "starlette", "langgraph", "langchain_core")
"""The directories of the corpus every tool checks."""


def install_corpus(target: Path) -> None:
    pip_install(PACKAGES, target)


def pip_install(packages: Sequence[str], target: Path) -> None:
    """Pinned packages, without their dependencies, into a scratch directory."""
    print(f"installing {' '.join(packages)} into {target} ...", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            *packages,
        ],
        check=True,
    )


def corpus_size(corpus: Path) -> tuple[int, int]:
    """Files and lines of the corpus's sources."""
    files = [p for source in SOURCES for p in (corpus / source).rglob("*.py")]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return len(files), lines


def versions(corpus: Path) -> list[str]:
    """`name version` of every distribution installed in the corpus."""
    found = []
    for info in sorted(corpus.glob("*.dist-info")):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found.append(f"{name} {version}")
    return found
