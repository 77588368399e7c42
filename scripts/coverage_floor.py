"""Coverage per package from coverage.py's JSON report: statements and branches of `audit`
and `soni` each, and a floor on statements that CI enforces (`.ci/run`).

    python scripts/coverage_floor.py coverage.json [--floor 90]

Exit 0 when every package is at or above the floor, 1 when one is below, 2 when the report
cannot be read."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGES = ("audit", "soni")


@dataclass
class Tally:
    statements: int = 0
    covered: int = 0
    branches: int = 0
    covered_branches: int = 0

    def add(self, summary: dict[str, Any]) -> None:
        self.statements += int(summary["num_statements"])
        self.covered += int(summary["covered_lines"])
        self.branches += int(summary.get("num_branches", 0))
        self.covered_branches += int(summary.get("covered_branches", 0))

    @property
    def statement_percent(self) -> float:
        return 100.0 * self.covered / self.statements if self.statements else 100.0

    @property
    def branch_percent(self) -> float:
        return 100.0 * self.covered_branches / self.branches if self.branches else 100.0


def tallies(report: dict[str, Any]) -> dict[str, Tally]:
    """Statements and branches per top-level package, from the report's per-file summaries."""
    found = {package: Tally() for package in PACKAGES}
    for path, entry in report["files"].items():
        package = Path(path).parts[0]
        if package in found:
            found[package].add(entry["summary"])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="coverage.py's JSON report (coverage json)")
    parser.add_argument("--floor", type=float, default=90.0, help="percent of statements")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        found = tallies(report)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"{args.report}: not a coverage.py JSON report: {error}", file=sys.stderr)
        return 2
    below = []
    print("package  statements         branches")
    for package, tally in found.items():
        print(
            f"{package:<8} {tally.statement_percent:5.1f}% of {tally.statements:>6}  "
            f"{tally.branch_percent:5.1f}% of {tally.branches:>6}"
        )
        if tally.statement_percent < args.floor:
            below.append(f"{package} {tally.statement_percent:.1f}%")
    if below:
        print(f"coverage below the floor of {args.floor:g}% of statements: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
