"""Precision of soni-audit's blocking rules on published async libraries, from hand labels.

The libraries pinned in `triage_wild.toml` are installed from PyPI (`pip --no-deps`) into a
scratch directory and checked with the default rule set (`--select BLK`) and with the opt-in
BLK105 ("may block on some paths"). Findings in the libraries' own test directories are left
out. Every finding is matched with a hand label in `triage_wild.toml` (true, false or
unclear, with the reason) by its file, enclosing function, flagged line and rank among equal
ones, so a label survives line shifts and a change of rule code. Precision is
true / (true + false); unclear findings count in neither.

    python scripts/triage_wild.py                       # install, check, print the table
    python scripts/triage_wild.py --site DIR            # reuse an installed tree
    python scripts/triage_wild.py --before REV          # also check with soni-audit at REV
    python scripts/triage_wild.py --output reports/in-the-wild.md
    python scripts/triage_wild.py --unlabelled          # print findings that need a label
    python scripts/triage_wild.py --dependencies        # also BLK106 (check --dependencies)
    python scripts/triage_wild.py --dependencies --venv DIR   # reuse that environment

With `--dependencies`, the libraries are also installed with their dependencies into a
virtual environment, and each library is checked on its own as a project would be, with
`--select BLK106 --dependencies`: the other installed distributions (the other libraries
of the list among them) are its dependencies.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.corpus import pip_install
from harness.report import emit
from harness.tools import SONI_AUDIT, audit_findings, soni_audit_at, worktree

DATA = Path(__file__).with_suffix(".toml")
TEST_DIRECTORIES = frozenset({"test", "tests", "testing"})
VERDICTS = ("true", "false", "unclear")
DEPENDENCIES = "BLK106 (--dependencies)"
Key = tuple[str, str, str, int]  # path in the tree, function, flagged line, rank


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    packages: tuple[str, ...]


@dataclass(frozen=True)
class Label:
    key: Key
    verdict: str
    kind: str
    reason: str


@dataclass(frozen=True)
class Found:
    key: Key
    library: str
    code: str
    line: int
    message: str
    chain: tuple[str, ...]


@dataclass
class Tally:
    found: int = 0
    true: int = 0
    false: int = 0
    unclear: int = 0
    unlabelled: int = 0

    def add(self, verdict: str | None) -> None:
        self.found += 1
        if verdict is None:
            self.unlabelled += 1
        else:
            setattr(self, verdict, getattr(self, verdict) + 1)

    @property
    def precision(self) -> str:
        judged = self.true + self.false
        return f"{100 * self.true / judged:.0f}%" if judged else "n/a"


# -- data ------------------------------------------------------------------------------------


def load_data(path: Path = DATA) -> tuple[list[Library], dict[Key, Label]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    libraries = [
        Library(name, table["version"], tuple(table["packages"]))
        for name, table in data["libraries"].items()
    ]
    labels: dict[Key, Label] = {}
    for entry in data.get("labels", []):
        key = (entry["path"], entry["function"], entry["text"], entry.get("rank", 1))
        if entry["verdict"] not in VERDICTS:
            raise SystemExit(f"{path}: label {key}: verdict must be one of {VERDICTS}")
        if key in labels:
            raise SystemExit(f"{path}: label {key} is given twice")
        labels[key] = Label(key, entry["verdict"], entry["kind"], entry["reason"])
    return libraries, labels


def install(libraries: Sequence[Library], site: Path) -> None:
    pip_install([f"{library.name}=={library.version}" for library in libraries], site)


def install_environment(libraries: Sequence[Library], venv: Path) -> None:
    """The pinned libraries and their dependencies, in a virtual environment."""
    print(f"installing the libraries with their dependencies into {venv} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pins = [f"{library.name}=={library.version}" for library in libraries]
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *pins], check=True)


# -- running the checker ---------------------------------------------------------------------


def check(
    site: Path, libraries: Sequence[Library], select: str, engine: Path | None = None
) -> list[Found]:
    """The findings of one soni-audit run over every library, test directories left out."""
    command = soni_audit_at(engine) if engine is not None else SONI_AUDIT
    packages = [package for library in libraries for package in library.packages]
    owner = {package: library.name for library in libraries for package in library.packages}
    raw = audit_findings(packages, select, site, command)
    kept = [f for f in raw if not TEST_DIRECTORIES & set(Path(f["path"]).parts[:-1])]
    return list(_keyed(site, kept, owner))


def check_dependencies(venv: Path, libraries: Sequence[Library], scratch: Path) -> list[Found]:
    """BLK106 findings of each library checked on its own with `--dependencies`, from a
    copy of its packages (checked inside site-packages, every installed distribution
    beside it would be the project's own code); the summaries of the libraries reached
    are kept in a user cache for the next ones."""
    site = next((venv / "lib").glob("python*/site-packages"))
    python = str(venv / "bin" / "python")
    owner = {package: library.name for library in libraries for package in library.packages}
    found: list[Found] = []
    for library in libraries:
        project = scratch / "projects" / library.name
        for package in library.packages:
            shutil.copytree(site / package, project / package)
        options = ("--dependencies", "--python", python)
        cache = scratch / "cache"
        raw = audit_findings(library.packages, "BLK106", project, options=options, cache=cache)
        kept = [f for f in raw if not TEST_DIRECTORIES & set(Path(f["path"]).parts[:-1])]
        found += _keyed(project, kept, owner)
    return found


def _keyed(site: Path, findings: list[dict[str, Any]], owner: dict[str, str]) -> Iterable[Found]:
    ranks: Counter[tuple[str, str, str]] = Counter()
    lines: dict[str, list[str]] = {}
    for finding in sorted(findings, key=lambda f: (f["path"], f["line"], f["column"])):
        path = finding["path"]
        if path not in lines:
            lines[path] = (site / path).read_text(encoding="utf-8").splitlines()
        text = " ".join(lines[path][finding["line"] - 1].split())
        base = (path, finding.get("function") or "", text)
        ranks[base] += 1
        yield Found(
            (*base, ranks[base]),
            owner[Path(path).parts[0]],
            finding["code"],
            finding["line"],
            finding["message"],
            tuple(finding.get("chain") or ()),
        )


# -- tables ----------------------------------------------------------------------------------


def tally(found: Iterable[Found], labels: dict[Key, Label]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for item in found:
        label = labels.get(item.key)
        for name in (item.library, "all"):
            tallies.setdefault(name, Tally()).add(label.verdict if label else None)
    return tallies


def _row(name: str, lines: str, columns: Sequence[Tally | None]) -> str:
    cells = [name, lines]
    for column in columns:
        column = column or Tally()
        cells += [str(column.found), f"{column.true}/{column.false}/{column.unclear}"]
        cells.append(column.precision)
    return "| " + " | ".join(cells) + " |"


def precision_table(
    libraries: Sequence[Library],
    site: Path,
    runs: dict[str, list[Found]],
    labels: dict[Key, Label],
) -> str:
    tallies = {name: tally(found, labels) for name, found in runs.items()}
    header = ["library", "lines"]
    rule = ["---", "---:"]
    for name in runs:
        header += [f"{name}: findings", "true/false/unclear", "precision"]
        rule += ["---:", "---:", "---:"]
    rows = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    total_lines = 0
    for library in libraries:
        count = _lines(site, library)
        total_lines += count
        columns = [tallies[name].get(library.name) for name in runs]
        rows.append(_row(f"{library.name} {library.version}", f"{count:,}", columns))
    columns = [tallies[name].get("all") for name in runs]
    rows.append(_row("**all**", f"{total_lines:,}", columns))
    largest = _most_findings(libraries, next(iter(runs.values())))
    if largest is not None:
        # One library can dominate the counts; show the rest on their own as well.
        rest = {
            name: tally((item for item in found if item.library != largest.name), labels)
            for name, found in runs.items()
        }
        columns = [rest[name].get("all") for name in runs]
        lines = total_lines - _lines(site, largest)
        rows.append(_row(f"**all except {largest.name}**", f"{lines:,}", columns))
    return "\n".join(rows)


def _most_findings(libraries: Sequence[Library], found: Sequence[Found]) -> Library | None:
    counts = Counter(item.library for item in found)
    if not counts:
        return None
    name, _ = counts.most_common(1)[0]
    return next(library for library in libraries if library.name == name)


def _lines(site: Path, library: Library) -> int:
    return sum(
        path.read_bytes().count(b"\n")
        for package in library.packages
        for path in (site / package).rglob("*.py")
        if not TEST_DIRECTORIES & set(path.relative_to(site).parts[:-1])
    )


def lost(runs: dict[str, list[Found]], labels: dict[Key, Label]) -> list[Found]:
    """True findings of the first run that no later run reports (under any code)."""
    first, *later = runs.values()
    kept = {item.key for found in later for item in found}
    return [
        item
        for item in first
        if item.key not in kept and (label := labels.get(item.key)) and label.verdict == "true"
    ]


# -- report ----------------------------------------------------------------------------------


def report(
    libraries: Sequence[Library],
    site: Path,
    runs: dict[str, list[Found]],
    labels: dict[Key, Label],
    before: str | None,
) -> str:
    now = runs["default set"]
    out = [
        "# Precision in the wild",
        "",
        "Every blocking-call finding soni-audit makes on published async libraries, labelled",
        "by hand (true: it blocks the event loop when that code runs on it; false: it does",
        "not; unclear: it depends on what callers pass). Precision is true / (true + false).",
        "Findings in the libraries' own test directories are left out. Regenerate with",
        "`python scripts/triage_wild.py --before REV --output reports/in-the-wild.md`;",
        "labels and pinned versions are in `scripts/triage_wild.toml`.",
        "",
        "Columns: "
        + ", ".join(
            f"**{name}**"
            + (f" (soni-audit at `{before}`, `--select BLK`)" if name == "before" else "")
            for name in runs
        )
        + ". The default set is `--select BLK` (BLK100-BLK104); BLK105 is opt-in;"
        + " BLK106 runs only with `--dependencies`.",
        "",
        precision_table(libraries, site, runs, labels),
        "",
    ]
    if before is not None:
        gone = lost(
            {"before": runs["before"], **{k: v for k, v in runs.items() if k != "before"}}, labels
        )
        out += [
            f"True findings of `{before}` that are no longer reported under any code: {len(gone)}.",
            "",
        ]
        out += _fixed_classes(runs["before"], now, labels)
    out += ["## Real bugs found (default set)", ""]
    out += _listing([item for item in now if _verdict(item, labels) == "true"], labels)
    if "BLK105" in runs:
        out += ["## Real stalls on some paths (BLK105, opt-in)", ""]
        may = [item for item in runs["BLK105"] if _verdict(item, labels) == "true"]
        out += _listing(may, labels)
    if DEPENDENCIES in runs:
        out += [
            f"## Blocking inside installed libraries ({DEPENDENCIES})",
            "",
            "Each library checked on its own with `--select BLK106 --dependencies`, reading",
            "an environment where the libraries are installed with their dependencies:",
            f"{len(runs[DEPENDENCIES])} findings in all; the true ones:",
            "",
        ]
        inside = [item for item in runs[DEPENDENCIES] if _verdict(item, labels) == "true"]
        out += _listing(inside, labels)
    out += ["## False positives that remain", ""]
    out += _listing(
        [
            item
            for name, found in runs.items()
            if name != "before"
            for item in found
            if _verdict(item, labels) == "false"
        ],
        labels,
    )
    unclear = [item for item in now if _verdict(item, labels) == "unclear"]
    if unclear:
        out += ["## Unclear (default set)", ""]
        out += _listing(unclear, labels)
    return "\n".join(out).rstrip() + "\n"


def _verdict(item: Found, labels: dict[Key, Label]) -> str | None:
    label = labels.get(item.key)
    return label.verdict if label else None


def _fixed_classes(before: list[Found], now: list[Found], labels: dict[Key, Label]) -> list[str]:
    now_keys = {item.key for item in now}
    gone = Counter(
        labels[item.key].kind
        for item in before
        if item.key not in now_keys and item.key in labels and labels[item.key].verdict == "false"
    )
    if not gone:
        return []
    lines = ["False positives no longer reported, by cause:", ""]
    lines += [f"- {kind}: {count}" for kind, count in gone.most_common()]
    return [*lines, ""]


def _listing(items: list[Found], labels: dict[Key, Label]) -> list[str]:
    if not items:
        return ["None.", ""]
    lines = []
    for item in sorted(items, key=lambda i: (i.library, i.key)):
        label = labels[item.key]
        chain = f" — `{' -> '.join(item.chain)}`" if item.chain else ""
        lines.append(f"- **{item.library}** `{item.key[0]}:{item.line}` {item.code}{chain}")
        lines.append(f"  {label.reason}")
    return [*lines, ""]


def unlabelled(runs: dict[str, list[Found]], labels: dict[Key, Label]) -> str:
    """A worksheet of findings without a label, as TOML to fill in."""
    seen: set[Key] = set()
    out = []
    for found in runs.values():
        for item in found:
            if item.key in labels or item.key in seen:
                continue
            seen.add(item.key)
            path, function, text, rank = item.key
            out += [
                f"# {item.code} line {item.line}: {item.message}",
                "[[labels]]",
                f"path = {json.dumps(path)}",
                f"function = {json.dumps(function)}",
                f"text = {json.dumps(text)}",
                *([f"rank = {rank}"] if rank != 1 else []),
                'verdict = ""',
                'kind = ""',
                'reason = ""',
                "",
            ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="an installed tree to reuse")
    parser.add_argument("--before", metavar="REV", help="also check with soni-audit at REV")
    parser.add_argument("--output", type=Path, help="write the markdown report here")
    parser.add_argument("--unlabelled", action="store_true", help="print unlabelled findings")
    parser.add_argument(
        "--dependencies", action="store_true", help="also check BLK106 with --dependencies"
    )
    parser.add_argument("--venv", type=Path, help="an environment to reuse for --dependencies")
    args = parser.parse_args()
    libraries, labels = load_data()
    with tempfile.TemporaryDirectory(prefix="triage-wild-") as scratch:
        site = args.site or Path(scratch) / "site"
        if args.site is None:
            install(libraries, site)
        runs: dict[str, list[Found]] = {}
        if args.before:
            with worktree(args.before, Path(scratch) / "before") as engine:
                runs["before"] = check(site, libraries, "BLK", engine)
        runs["default set"] = check(site, libraries, "BLK")
        runs["BLK105"] = check(site, libraries, "BLK105")
        if args.dependencies:
            venv = args.venv or Path(scratch) / "venv"
            if args.venv is None:
                install_environment(libraries, venv)
            runs[DEPENDENCIES] = check_dependencies(venv, libraries, Path(scratch))
        if args.unlabelled:
            print(unlabelled(runs, labels))
            return 0
        text = report(libraries, site, runs, labels, args.before)
    emit(text, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
