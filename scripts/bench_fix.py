"""What `soni-audit check --fix --unsafe-fixes` does to ~140k lines of real third-party code.

The corpus of `bench_audit.py` (fastapi, starlette, langgraph, langchain-core) is copied,
fixed, and then judged independently of the tool: every changed file must parse (libcst) and
compile, a second `--diff` must find nothing more to change, and the time of `--fix` is
compared with a plain `check` of the same copy, both without a cache, in the same run.

    python scripts/bench_fix.py                          # table on stdout
    python scripts/bench_fix.py --output reports/bench-fix.md
    python scripts/bench_fix.py --corpus DIR             # reuse an installed corpus
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from harness.corpus import SOURCES, corpus_size, install_corpus, versions
from harness.report import emit, machine
from harness.tools import timed, tool

APPLIED = re.compile(r"^(?P<path>[^:]+):\d+:\d+: (?P<code>[A-Z]+\d+) \[(?P<kind>safe|unsafe)\] ")


@dataclass(frozen=True)
class Judgement:
    """The fixed copy judged apart from the tool."""

    files_changed: int
    not_parsing: list[str]
    fixed: Counter[str]  # fixes applied, by code
    unsafe: int
    second_pass_edits: int


@dataclass
class Outcome:
    check_seconds: list[float] = field(default_factory=list)
    fix_seconds: list[float] = field(default_factory=list)
    findings_before: Counter[str] = field(default_factory=Counter)
    findings_after: Counter[str] = field(default_factory=Counter)
    dropped: list[str] = field(default_factory=list)
    judgement: Judgement = field(default_factory=lambda: Judgement(0, [], Counter(), 0, 0))


def _soni(*args: str) -> list[str]:
    return [tool("soni-audit"), "check", "--no-cache", "--jobs", "2", *args, *SOURCES]


def _codes(output: str) -> Counter[str]:
    return Counter(finding["code"] for finding in json.loads(output)["findings"])


def measure(corpus: Path, scratch: Path, repeat: int) -> Outcome:
    outcome = Outcome()
    for round_number in range(repeat):
        copy = scratch / f"copy-{round_number}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(corpus, copy, ignore=shutil.ignore_patterns(".soni-audit-cache"))
        seconds, checked = timed(_soni("--format", "json"), copy)
        outcome.check_seconds.append(seconds)
        seconds, fixed = timed(_soni("--fix", "--unsafe-fixes", "--format", "json"), copy)
        outcome.fix_seconds.append(seconds)
        if round_number:
            continue
        outcome.findings_before = _codes(checked.stdout)
        outcome.findings_after = _codes(fixed.stdout)
        outcome.dropped = [line for line in fixed.stderr.splitlines() if "not applied" in line]
        outcome.judgement = _judge(corpus, copy)
    return outcome


def _judge(corpus: Path, copy: Path) -> Judgement:
    """Count what changed, check every changed file independently, and run a second pass."""
    changed = [
        copy / original.relative_to(corpus)
        for source in SOURCES
        for original in sorted((corpus / source).rglob("*.py"))
        if (copy / original.relative_to(corpus)).read_bytes() != original.read_bytes()
    ]
    not_parsing = [
        f"{path.relative_to(copy)}: {problem}" for path in changed if (problem := _broken(path))
    ]
    # What the fixes did, by code, as the diff of a fresh copy reports it.
    fresh = copy.parent / "diff-copy"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(corpus, fresh, ignore=shutil.ignore_patterns(".soni-audit-cache"))
    _, diff = timed(_soni("--diff", "--unsafe-fixes"), fresh)
    applied = [m for line in diff.stderr.splitlines() if (m := APPLIED.match(line))]
    _, again = timed(_soni("--diff", "--unsafe-fixes"), copy)
    return Judgement(
        files_changed=len(changed),
        not_parsing=not_parsing,
        fixed=Counter(match["code"] for match in applied),
        unsafe=sum(match["kind"] == "unsafe" for match in applied),
        second_pass_edits=sum(
            1
            for line in again.stdout.splitlines()
            if line.startswith(("+", "-")) and not line.startswith(("+++ ", "--- "))
        ),
    )


def _broken(path: Path) -> str:
    """Why a fixed file would not load ("" when it parses and compiles)."""
    text = path.read_text(encoding="utf-8")
    try:
        cst.parse_module(text)
        compile(text, str(path), "exec", dont_inherit=True)
    except (cst.ParserSyntaxError, SyntaxError) as error:
        return str(error)
    return ""


def render(outcome: Outcome, files: int, lines: int, corpus: list[str], repeat: int) -> str:
    check = statistics.median(outcome.check_seconds)
    fix = statistics.median(outcome.fix_seconds)
    judged = outcome.judgement
    codes = sorted(set(outcome.findings_before) | set(judged.fixed))
    rows = [
        "| code | findings before | fixed | findings after |",
        "|---|---:|---:|---:|",
        *(
            f"| {code} | {outcome.findings_before[code]} | {judged.fixed[code]} "
            f"| {outcome.findings_after[code]} |"
            for code in codes
        ),
        f"| all | {sum(outcome.findings_before.values())} | {sum(judged.fixed.values())} "
        f"| {sum(outcome.findings_after.values())} |",
    ]
    figures = [
        "| measure | value |",
        "|---|---:|",
        f"| files changed | {judged.files_changed} |",
        f"| fixes applied (unsafe among them) | {sum(judged.fixed.values())} ({judged.unsafe}) |",
        f"| changed files that do not parse or compile | {len(judged.not_parsing)} |",
        f"| files whose fixes were dropped by the tool | {len(outcome.dropped)} |",
        f"| edits a second `--diff --unsafe-fixes` would make | {judged.second_pass_edits} |",
        f"| `check` (no cache, 2 jobs), median of {repeat} | {check:.2f} s |",
        f"| `check --fix --unsafe-fixes` (no cache, 2 jobs), median of {repeat} | {fix:.2f} s |",
        f"| `--fix` / `check` | {fix / check:.2f}x |",
    ]
    header = [
        "# soni-audit --fix benchmark",
        "",
        f"Corpus: {files:,} files, {lines:,} lines ({', '.join(corpus)}), copied and fixed",
        "with `soni-audit check --fix --unsafe-fixes`; every changed file is then parsed with",
        "libcst and compiled by Python, and a second `--diff` on the fixed copy must be empty.",
        f"Machine: {machine()}. Regenerate with `python scripts/bench_fix.py --output",
        "reports/bench-fix.md`.",
        "",
    ]
    problems = [f"- {line}" for line in (*judged.not_parsing, *outcome.dropped)]
    return (
        "\n".join(
            [*header, *figures, "", *rows, *(["", "Problems:", "", *problems] if problems else [])]
        )
        + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="an installed corpus to reuse")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fix-") as directory:
        scratch = Path(directory)
        corpus = args.corpus or scratch / "corpus"
        if args.corpus is None:
            install_corpus(corpus)
        files, lines = corpus_size(corpus)
        print(f"corpus: {files} files, {lines} lines", file=sys.stderr)
        outcome = measure(corpus, scratch, args.repeat)
        report = render(outcome, files, lines, versions(corpus), args.repeat)
    emit(report, args.output)
    judged = outcome.judgement
    return 1 if judged.not_parsing or judged.second_pass_edits else 0


if __name__ == "__main__":
    raise SystemExit(main())
