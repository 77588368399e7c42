"""How fast `soni-audit server` answers an edit, and what it weighs, beside `ruff server`.

On the corpus of `bench_audit.py` (fastapi, starlette, langgraph, langchain-core) with the
cache warm (a `soni-audit check` first), each server is started over stdio as an editor
starts it, one file is opened, and 100 edits are sent one after the other (full-text
`didChange`, each waiting for its diagnostics): the time from `didChange` to the
`publishDiagnostics` of that version, p50 and p95, on the corpus file closest to 1,000
lines and on the file of median length. Then 50 files are opened and the server's RSS read.

    python scripts/bench_lsp.py                          # report on stdout
    python scripts/bench_lsp.py --output reports/bench-lsp.md
    python scripts/bench_lsp.py --corpus DIR             # reuse an installed corpus
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from audit.lsp.client import LspClient
from harness.corpus import SOURCES, corpus_size, install_corpus, versions
from harness.report import publish
from harness.tools import SONI_AUDIT, tool

EDITS = 100
OPENED = 50


@dataclass(frozen=True)
class Latency:
    server: str
    file: str
    lines: int
    samples: list[float]  # milliseconds
    findings: int  # diagnostics on the last edit

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.samples, n=20)[-1]


@dataclass(frozen=True)
class Footprint:
    server: str
    rss_mb: float
    first_ms: float  # opening a file to its first diagnostics, just after start


SERVERS = {
    "soni-audit server": [*SONI_AUDIT, "server"],
    "ruff server": [tool("ruff"), "server"],
}


def python_files(corpus: Path) -> list[tuple[Path, int]]:
    """Every file of the corpus with its number of lines, shortest first."""
    files = [p for source in SOURCES for p in sorted((corpus / source).rglob("*.py"))]
    return sorted(((p, p.read_bytes().count(b"\n")) for p in files), key=lambda item: item[1])


def edit_latency(name: str, corpus: Path, file: Path, lines: int, edits: int) -> Latency:
    client = LspClient(SERVERS[name], cwd=corpus)
    try:
        client.initialize([corpus])
        text = file.read_text(encoding="utf-8")
        uri = client.open(file, text)
        client.diagnostics(uri, version=1, timeout=300)
        samples = []
        found = []
        for number in range(edits):
            version = number + 2
            edited = f"{text}\n_bench_edit = {number}\n"
            start = time.perf_counter()
            client.change(uri, edited, version)
            found = client.diagnostics(uri, version=version, timeout=300)
            samples.append((time.perf_counter() - start) * 1000)
        client.close()
    finally:
        client.kill()
    return Latency(name, file.relative_to(corpus).as_posix(), lines, samples, len(found))


def footprint(name: str, corpus: Path, files: list[Path]) -> Footprint:
    client = LspClient(SERVERS[name], cwd=corpus)
    try:
        client.initialize([corpus])
        start = time.perf_counter()
        first = client.open(files[0], files[0].read_text(encoding="utf-8"))
        client.diagnostics(first, version=1, timeout=300)
        first_ms = (time.perf_counter() - start) * 1000
        uris = [client.open(file, file.read_text(encoding="utf-8")) for file in files[1:]]
        for uri in uris:
            client.diagnostics(uri, version=1, timeout=300)
        rss = psutil.Process(client.process.pid).memory_info().rss / 2**20
        client.close()
    finally:
        client.kill()
    return Footprint(name, rss, first_ms)


def warm_cache(corpus: Path) -> None:
    command = [*SONI_AUDIT, "check", "--exit-zero", "--jobs", "2", *SOURCES]
    subprocess.run(command, cwd=corpus, capture_output=True, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="an installed corpus to reuse")
    parser.add_argument("--edits", type=int, default=EDITS)
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lsp-") as scratch:
        corpus = args.corpus or Path(scratch) / "corpus"
        if args.corpus is None:
            install_corpus(corpus)
        warm_cache(corpus)
        files = python_files(corpus)
        thousand = min(files, key=lambda item: abs(item[1] - 1000))
        median = files[len(files) // 2]
        latencies = [
            edit_latency(name, corpus, path, lines, args.edits)
            for path, lines in (thousand, median)
            for name in SERVERS
        ]
        opened = [path for path, _ in files[len(files) // 2 :][:OPENED]]
        footprints = [footprint(name, corpus, opened) for name in SERVERS]
        count, lines = corpus_size(corpus)
        installed = versions(corpus)
        load = os.getloadavg()[0]
    publish(
        "bench-lsp.md.j2",
        args.output,
        corpus=", ".join(installed),
        files=count,
        corpus_lines=lines,
        edits=args.edits,
        opened=OPENED,
        latencies=latencies,
        load=load,
        footprints=footprints,
        command=f"python scripts/bench_lsp.py --edits {args.edits} --output reports/bench-lsp.md",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
