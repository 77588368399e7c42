"""Draw a reproducible random sample of findings, with their code, for a human to review.

    python scripts/sample_findings.py CORPUS_DIR --select MUT --count 50 --seed 1

Prints markdown: per-rule counts for the whole directory, then each sampled finding with
the function it is in and five lines of context, ready to be marked true or false positive.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from harness.tools import audit_findings


def findings(directory: Path, select: str) -> list[dict[str, object]]:
    return audit_findings(["."], select, directory)


def context(directory: Path, finding: dict[str, object], around: int = 2) -> str:
    lines = (directory / str(finding["path"])).read_text(encoding="utf-8").splitlines()
    line = int(str(finding["line"]))
    start, end = max(1, line - around), min(len(lines), line + around)
    return "\n".join(
        f"{'>' if n == line else ' '} {n:5} {lines[n - 1]}" for n in range(start, end + 1)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--select", default="MUT")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    found = findings(args.directory, args.select)
    counts = Counter(str(f["code"]) for f in found)
    print(f"# {len(found)} findings ({args.select}) in {args.directory}\n")
    print("| code | findings |\n|---|---:|")
    for code, count in sorted(counts.items()):
        print(f"| {code} | {count} |")
    chooser = random.Random(args.seed)  # noqa: S311 -- a reproducible sample, not a secret
    sample = chooser.sample(found, min(args.count, len(found)))
    sample.sort(key=lambda f: (str(f["path"]), int(str(f["line"]))))
    print(f"\n## Sample of {len(sample)} (seed {args.seed})\n")
    for number, finding in enumerate(sample, start=1):
        print(
            f"### {number}. {finding['path']}:{finding['line']} {finding['code']} "
            f"in `{finding['function']}`\n"
        )
        print(f"{finding['message']}\n\n```\n{context(args.directory, finding)}\n```\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
