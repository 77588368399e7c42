"""Recall and precision of soni-audit, flake8-async and ruff on labelled code, side by side.

Each corpus under tests/fixtures/ labels every line that blocks the event loop with
`# blocking`; a tool's hit on a labelled line is a true positive, a hit elsewhere a false
positive, a labelled line it misses a false negative. All tools run on the same copy.

    python scripts/peer_accuracy.py            # table
    python scripts/peer_accuracy.py --json     # machine-readable (used by the tests)
    python scripts/peer_accuracy.py --verbose  # also list every miss and false alarm
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = ("peer_ground", "beyond_peers")
Hit = tuple[str, int]


def labelled(directory: Path) -> set[Hit]:
    hits = set()
    for path in sorted(directory.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.rstrip().endswith("# blocking"):
                hits.add((path.name, number))
    return hits


def _run(command: list[str], cwd: Path) -> str:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False).stdout


def soni_audit(directory: Path) -> set[Hit]:
    output = _run(
        [
            sys.executable,
            "-m",
            "audit",
            "check",
            "--no-cache",
            "--exit-zero",
            "--format",
            "json",
            "--select",
            "BLK1",
            ".",
        ],
        directory,
    )
    return {(Path(f["path"]).name, f["line"]) for f in json.loads(output)["findings"]}


def flake8_async(directory: Path) -> set[Hit]:
    output = _run(
        [sys.executable, "-m", "flake8", "--select", "ASYNC2", "--format", "%(path)s:%(row)d", "."],
        directory,
    )
    return {(Path(p).name, int(n)) for p, n in (line.rsplit(":", 1) for line in output.split())}


def ruff(directory: Path) -> set[Hit]:
    output = _run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "ASYNC2",
            "--output-format",
            "json",
            "--exit-zero",
            ".",
        ],
        directory,
    )
    return {(Path(f["filename"]).name, f["location"]["row"]) for f in json.loads(output)}


TOOLS = {"soni-audit": soni_audit, "flake8-async": flake8_async, "ruff": ruff}


def score(truth: set[Hit], found: set[Hit]) -> dict[str, object]:
    true_positives = len(truth & found)
    return {
        "found": len(found),
        "true_positives": true_positives,
        "false_positives": sorted(found - truth),
        "false_negatives": sorted(truth - found),
        "recall": true_positives / len(truth) if truth else 1.0,
        "precision": true_positives / len(found) if found else 1.0,
    }


def measure() -> dict[str, dict[str, dict[str, object]]]:
    results: dict[str, dict[str, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for corpus in CORPORA:
            copy = Path(scratch) / corpus
            shutil.copytree(REPO / "tests" / "fixtures" / corpus, copy)
            truth = labelled(copy)
            results[corpus] = {"labelled": {"count": len(truth)}}
            for name, tool in TOOLS.items():
                results[corpus][name] = score(truth, tool(copy))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    results = measure()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for corpus, rows in results.items():
        print(f"\n{corpus}: {rows['labelled']['count']} labelled blocking calls")
        columns = ("found", "TP", "FP", "FN", "recall", "precision")
        print(f"  {'tool':<13} " + " ".join(f"{c:>{max(len(c), 4)}}" for c in columns))
        for name in TOOLS:
            row = rows[name]
            fp, fn = row["false_positives"], row["false_negatives"]
            assert isinstance(fp, list)
            assert isinstance(fn, list)
            counts = (row["found"], row["true_positives"], len(fp), len(fn))
            print(
                f"  {name:<13} "
                + " ".join(f"{n:>5}" if i == 0 else f"{n:>4}" for i, n in enumerate(counts))
                + f" {row['recall']:>6.0%} {row['precision']:>9.0%}"
            )
            if args.verbose:
                for path, line in fn:
                    print(f"      missed      {path}:{line}")
                for path, line in fp:
                    print(f"      false alarm {path}:{line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
