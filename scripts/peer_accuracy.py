"""Recall and precision of soni-audit, flake8-async and ruff on labelled code, side by side.

Each corpus under tests/fixtures/ labels every line that blocks the event loop with
`# blocking`; a tool's hit on a labelled line is a true positive, a hit elsewhere a false
positive, a labelled line it misses a false negative. All tools run on the same copy.

flake8-async's own eval files (tests/eval_files/async2*.py of the installed version's sdist,
downloaded from PyPI into a cache at run time, never copied into this repository) are a
further corpus, scored per flake8-async category, both as shipped and with the imports they
omit added back (see `eval_corpus` and `with_imports`).

    python scripts/peer_accuracy.py                # table
    python scripts/peer_accuracy.py --json         # machine-readable (used by the tests)
    python scripts/peer_accuracy.py --verbose      # also list every miss and false alarm
    python scripts/peer_accuracy.py --output reports/peer-accuracy.md  # markdown report
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tokenize
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import REPO
from harness.tools import audit_findings

DATA = Path(__file__).with_suffix(".toml")
CORPORA = ("peer_ground", "beyond_peers")
Hit = tuple[str, int]
Row = dict[str, Any]

# flake8-async's blocking-call categories. ASYNC200 is left out: what it flags is configured
# by the user (--async200-blocking-calls), so its eval file says nothing about the defaults.
EVAL_CATEGORIES = (
    "ASYNC210",
    "ASYNC211",
    "ASYNC212",
    "ASYNC220",
    "ASYNC221",
    "ASYNC222",
    "ASYNC230",
    "ASYNC231",
    "ASYNC232",
    "ASYNC240",
    "ASYNC250",
    "ASYNC251",
)
EVAL_VARIANTS = {
    "eval_files": "as shipped",
    "eval_files_imports_added": "with the imports they omit added back",
    "eval_files_judged": "imports added, truth as judged in scripts/peer_accuracy.toml",
}
EVAL_MEMBER = re.compile(r"[^/]+/tests/eval_files/(async2\w*\.py)")
# An expected error in a trailing comment: `# ASYNC212: 4, "close", "client"`, possibly with a
# library suffix (`# ASYNC221_asyncio: 8, ...`), or `# error: ...` for the file's own code.
MARKER = re.compile(r"\b(ASYNC\d{3}|error)(?:_\w+)?:")
ENABLE = re.compile(r"#\s*ARG\s+--enable=([\w,]+)")
BASE_LIBRARY = re.compile(r"#\s*BASE_LIBRARY\s+(\w+)")
LIBRARIES = ("trio", "anyio", "asyncio")
# The marker's column, then the callable it names: `: 4, 'os.spawnl', "trio"`.
CALLEE = re.compile(r"\s*\d+\s*,\s*(['\"])([\w.]+)\1")


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
    return {(Path(f["path"]).name, f["line"]) for f in audit_findings(["."], "BLK1", directory)}


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


def versions() -> dict[str, str]:
    """What was measured: soni-audit from this checkout, the peers as installed."""
    return {
        "soni-audit": importlib.import_module("audit").__version__,
        "flake8-async": metadata.version("flake8-async"),
        "ruff": metadata.version("ruff"),
    }


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


# --- flake8-async's eval files -------------------------------------------------------------


class EvalUnavailable(Exception):
    """The eval files could not be obtained; the message says what failed."""


@dataclass(frozen=True)
class EvalFile:
    """One eval file, with the truth its markup states."""

    name: str
    text: str
    codes: tuple[str, ...]  # the codes the file tests
    library: str  # the library mode its expectations are written for
    labels: dict[int, str]  # line -> the code expected there
    callees: dict[int, str]  # line -> the callable its marker names (`'os.spawnl'`), if any

    def category(self, line: int) -> str:
        """The code a hit on `line` counts under: its label; in a file testing one code, that
        code; else the code of the nearest labelled line that calls the same callable, or of
        the nearest labelled line (the earlier on a tie). Those files group their cases by
        callable and code, so a neighbour names the case being exercised."""
        if line in self.labels:
            return self.labels[line]
        if len(self.codes) == 1 or not self.labels:
            return self.codes[0]
        lines = self.text.splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        same_callee = [
            labelled
            for labelled, callee in self.callees.items()
            if re.search(rf"(?<![\w.]){re.escape(callee)}\s*\(", text)
        ]
        nearest = min(same_callee or self.labels, key=lambda other: (abs(other - line), other))
        return self.labels[nearest]


def _codes(name: str, text: str) -> tuple[str, ...]:
    """The codes a file tests: its last `# ARG --enable=` list, else the code in its name."""
    enabled = ENABLE.findall(text)
    if enabled:
        return tuple(code for code in enabled[-1].split(",") if code)
    digits = re.match(r"async(\d{3})", name)
    return (f"ASYNC{digits.group(1)}",) if digits else ()


def _library(text: str) -> str:
    """The mode flake8-async's own suite checks the expectations in: BASE_LIBRARY (trio
    unless stated), or the first mode a `# NOTRIO` / `# NOANYIO` / `# NOASYNCIO` header
    leaves when it excludes that one (async232_asyncio.py: asyncio)."""
    base = BASE_LIBRARY.search(text)
    library = base.group(1) if base else "trio"
    checked = [lib for lib in LIBRARIES if not re.search(rf"#\s*NO{lib.upper()}\b", text)]
    return library if library in checked or not checked else checked[0]


def expected_lines(text: str, codes: tuple[str, ...]) -> tuple[dict[int, str], dict[int, str]]:
    """Line -> code for every expected-error marker in a trailing comment, and line -> the
    callable the marker names. Comment-only lines (headers, prose) never carry one; a line
    with several markers counts once, under the first; a library suffix (`ASYNC221_asyncio`)
    is the same category as the bare code; `error:` stands for the file's first code."""
    lines = text.splitlines()
    labels: dict[int, str] = {}
    callees: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        row, column = token.start
        if token.type != tokenize.COMMENT or not lines[row - 1][:column].strip():
            continue
        for marker in MARKER.finditer(token.string):
            code = marker.group(1)
            if row in labels or (code == "error" and not codes):
                continue
            labels[row] = codes[0] if code == "error" else code
            named = CALLEE.match(token.string, marker.end())
            if named:
                callees[row] = named.group(2)
    return labels, callees


def parse_eval_file(name: str, text: str) -> EvalFile:
    """The truth of one eval file, read from its markup; `# <LIB>_NO_ERROR` for the file's
    mode means it expects nothing there."""
    codes = _codes(name, text)
    library = _library(text)
    labels, callees = expected_lines(text, codes)
    if re.search(rf"#\s*{library.upper()}_NO_ERROR\b", text):
        labels, callees = {}, {}
    return EvalFile(name, text, codes, library, labels, callees)


def cache_dir() -> Path:
    """Where the sdist is kept between runs."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "soni-audit" / "peer-eval"


def sdist(version: str, cache: Path) -> Path:
    """flake8-async's sdist for `version`: reused from `cache`, else fetched there by pip.
    Only the sdist carries the eval files; the wheel has none."""
    cached = sorted(cache.glob(f"flake8[-_]async-{version}.tar.gz"))
    if cached:
        return cached[0]
    cache.mkdir(parents=True, exist_ok=True)
    what = f"`pip download --no-deps --no-binary :all: flake8-async=={version}`"
    command = [
        *(sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"),
        *("--disable-pip-version-check", "--quiet", "--dest", str(cache)),
        f"flake8-async=={version}",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    except subprocess.TimeoutExpired as error:
        raise EvalUnavailable(f"{what} timed out") from error
    cached = sorted(cache.glob(f"flake8[-_]async-{version}.tar.gz"))
    if done.returncode != 0 or not cached:
        detail = (done.stderr.strip().splitlines() or ["no sdist saved"])[-1]
        raise EvalUnavailable(f"{what} failed: {detail}")
    return cached[0]


def eval_sources(tarball: Path) -> dict[str, str]:
    """The tests/eval_files/async2*.py members of the sdist, by file name. Only regular files
    at exactly that place are read, into memory: nothing is written by a member's own path."""
    sources = {}
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            match = EVAL_MEMBER.fullmatch(member.name)
            handle = archive.extractfile(member) if match and member.isfile() else None
            if match and handle:
                sources[match.group(1)] = handle.read().decode("utf-8")
    return sources


def eval_corpus(cache: Path | None = None) -> list[EvalFile]:
    """The eval files of the installed flake8-async that test the blocking categories."""
    try:
        version = metadata.version("flake8-async")
    except metadata.PackageNotFoundError as error:
        raise EvalUnavailable("flake8-async is not installed") from error
    tarball = sdist(version, cache or cache_dir())
    try:
        sources = eval_sources(tarball)
    except (tarfile.TarError, OSError, UnicodeDecodeError) as error:
        raise EvalUnavailable(
            f"cannot read {tarball} ({error}); delete it to fetch again"
        ) from error
    files = [parse_eval_file(name, text) for name, text in sorted(sources.items())]
    chosen = [f for f in files if f.codes and set(f.codes) <= set(EVAL_CATEGORIES)]
    if not chosen:
        raise EvalUnavailable(f"{tarball} has no tests/eval_files/async2*.py for {EVAL_CATEGORIES}")
    return chosen


def extra_modules(path: Path = DATA) -> frozenset[str]:
    """Module roots taken as modules even when not installed here."""
    with path.open("rb") as handle:
        return frozenset(tomllib.load(handle)["eval_files"]["extra_modules"])


def _attribute_roots(tree: ast.AST) -> set[str]:
    """Names read as the root of a dotted access: `subprocess` in `subprocess.run()`."""
    return {
        node.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    }


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the file binds anywhere, in any scope."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return bound


def _is_module(name: str, extra: frozenset[str]) -> bool:
    """Whether an unbound root names a module: stdlib, listed, or importable here."""
    if name in sys.stdlib_module_names or name in extra:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # e.g. `__main__`, which has no spec
        return False


@dataclass(frozen=True)
class Patched:
    """An eval file with its missing imports added on one line."""

    text: str
    line: int  # the added line's number, 0 when nothing was added
    modules: tuple[str, ...]

    def original_line(self, line: int) -> int:
        """`line` of the patched text in the original (0 for the added line itself)."""
        if not self.line or line < self.line:
            return line
        return 0 if line == self.line else line - 1


def with_imports(text: str, extra: frozenset[str]) -> Patched:
    """`text` with one `import a, b` line for the module roots it uses but never binds. It goes
    first, or after the `from __future__` imports, so everything below moves down one line."""
    tree = ast.parse(text)
    missing = tuple(
        sorted(
            root for root in _attribute_roots(tree) - _bound_names(tree) if _is_module(root, extra)
        )
    )
    if not missing:
        return Patched(text, 0, ())
    future = [
        node.end_lineno or node.lineno
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "__future__"
    ]
    at = max(future, default=0) + 1
    lines = text.splitlines(keepends=True)
    lines.insert(at - 1, f"import {', '.join(missing)}\n")
    return Patched("".join(lines), at, missing)


def score_eval(files: list[EvalFile], found: dict[str, set[Hit]]) -> Row:
    """Totals and per-category scores. A labelled line is truth for its code; any other hit
    is a false positive under the category `EvalFile.category` gives its line."""
    by_name = {f.name: f for f in files}
    truth = {(f.name, line): code for f in files for line, code in f.labels.items()}
    result: Row = {"labelled": {"count": len(truth)}, "files": sorted(by_name)}
    for tool, hits in found.items():
        result[tool] = score(set(truth), hits)
    categories: Row = {}
    for code in EVAL_CATEGORIES:
        expected = {hit for hit, label in truth.items() if label == code}
        row: Row = {"labelled": {"count": len(expected)}}
        for tool, hits in found.items():
            mine = {(name, line) for name, line in hits if by_name[name].category(line) == code}
            row[tool] = score(expected, mine)
        categories[code] = row
    result["categories"] = categories
    return result


def measure_eval(files: list[EvalFile], extra: frozenset[str]) -> dict[str, Row]:
    """Every tool on both variants of the eval files, hits mapped to the shipped lines."""
    results: dict[str, Row] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for variant in ("eval_files", "eval_files_imports_added"):
            directory = Path(scratch) / variant
            directory.mkdir()
            patches = {
                f.name: with_imports(f.text, extra)
                if variant == "eval_files_imports_added"
                else Patched(f.text, 0, ())
                for f in files
            }
            for name, patched in patches.items():
                (directory / name).write_text(patched.text, encoding="utf-8")
            found = {
                tool: {(name, patches[name].original_line(line)) for name, line in run(directory)}
                for tool, run in TOOLS.items()
            }
            results[variant] = score_eval(files, found)
            results[variant]["imports_added"] = {
                name: list(p.modules) for name, p in patches.items() if p.modules
            }
    results["eval_files_judged"] = score_eval(judged(files), found)
    results["eval_files_judged"]["imports_added"] = results[variant]["imports_added"]
    results["eval_files_judged"]["judged"] = judgements()
    return results


def judgements(path: Path = DATA) -> list[dict[str, Any]]:
    """Our reading of lines where the markup and the code disagree (see the TOML file)."""
    with path.open("rb") as handle:
        entries: list[dict[str, Any]] = tomllib.load(handle).get("judged", [])
    return entries


def judged(files: list[EvalFile], path: Path = DATA) -> list[EvalFile]:
    """The eval files with our judgements applied: lines that block are labelled (in the
    category a hit there counts under), lines that cannot block are not. A judged line whose
    text is not there any more stops the run: the files changed under the judgements."""
    by_name = {f.name: f for f in files}
    changes: dict[str, dict[int, bool]] = {}
    for entry in judgements(path):
        eval_file = by_name.get(entry["file"])
        if eval_file is None:
            continue
        lines = eval_file.text.splitlines()
        for line in entry["lines"]:
            if not 0 < line <= len(lines) or entry["text"] not in lines[line - 1]:
                raise SystemExit(
                    f"{path.name}: {entry['file']}:{line} does not contain {entry['text']!r};"
                    " the eval files changed, judge them again"
                )
            changes.setdefault(eval_file.name, {})[line] = bool(entry["blocking"])
    result = []
    for eval_file in files:
        labels = dict(eval_file.labels)
        for line, blocking in changes.get(eval_file.name, {}).items():
            if blocking:
                labels.setdefault(line, eval_file.category(line))
            else:
                labels.pop(line, None)
        result.append(replace(eval_file, labels=labels))
    return result


# --- output --------------------------------------------------------------------------------

COLUMNS = ("found", "TP", "FP", "FN", "recall", "precision")


def _numbers(row: Row) -> tuple[int, int, int, int, float, float]:
    fp, fn = row["false_positives"], row["false_negatives"]
    return (row["found"], row["true_positives"], len(fp), len(fn), row["recall"], row["precision"])


def _text_row(row: Row) -> str:
    found, tp, fp, fn, recall, precision = _numbers(row)
    return f"{found:>5} {tp:>4} {fp:>4} {fn:>4} {recall:>6.0%} {precision:>9.0%}"


def _text_header() -> str:
    return " ".join(f"{c:>{max(len(c), 4)}}" for c in COLUMNS)


def _code_line(files: dict[str, EvalFile], hit: Hit) -> str:
    name, line = hit
    lines = files[name].text.splitlines() if name in files else []
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _print_listing(row: Row, indent: str, files: dict[str, EvalFile] | None = None) -> None:
    for kind, key in (("missed", "false_negatives"), ("false alarm", "false_positives")):
        for path, line in row[key]:
            code = f"  {_code_line(files, (path, line))}" if files else ""
            print(f"{indent}{kind:<11} {path}:{line}{code}")


def print_corpora(results: dict[str, Row], verbose: bool) -> None:
    for corpus in CORPORA:
        rows = results[corpus]
        print(f"\n{corpus}: {rows['labelled']['count']} labelled blocking calls")
        print(f"  {'tool':<13} " + _text_header())
        for name in TOOLS:
            print(f"  {name:<13} " + _text_row(rows[name]))
            if verbose:
                _print_listing(rows[name], "      ")


def print_eval(results: dict[str, Row], files: list[EvalFile], verbose: bool) -> None:
    by_name = {f.name: f for f in files}
    for variant, title in EVAL_VARIANTS.items():
        rows = results[variant]
        print(
            f"\n{variant} (flake8-async's eval files, {title}): {len(rows['files'])} files, "
            f"{rows['labelled']['count']} labelled lines"
        )
        print(f"  {'category':<9} {'labelled':>8}  {'tool':<13} " + _text_header())
        for code, category in [*rows["categories"].items(), ("total", rows)]:
            for index, name in enumerate(TOOLS):
                lead = f"{code:<9} {category['labelled']['count']:>8}" if index == 0 else " " * 18
                print(f"  {lead}  {name:<13} " + _text_row(category[name]))
        if verbose:
            for name in TOOLS:
                print(f"  {name}")
                _print_listing(rows[name], "      ", by_name)


def _md_table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _md_numbers(row: Row) -> tuple[object, ...]:
    found, tp, fp, fn, recall, precision = _numbers(row)
    return (found, tp, fp, fn, f"{recall:.0%}", f"{precision:.0%}")


def _md_code(text: str) -> str:
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _md_gaps(rows: Row, files: dict[str, EvalFile]) -> list[str]:
    """soni-audit's misses and false alarms, with whether each peer agrees on the line."""
    table = []
    for kind, key in (("missed", "false_negatives"), ("false alarm", "false_positives")):
        for name, line in rows["soni-audit"][key]:
            hit = (name, line)
            peers = []
            for peer in ("flake8-async", "ruff"):
                flagged = hit not in rows[peer]["false_negatives"]
                if key == "false_positives":
                    flagged = hit in rows[peer]["false_positives"]
                peers.append("flags it" if flagged else "-")
            category = files[name].category(line)
            code = _md_code(_code_line(files, hit))
            table.append((kind, category, f"{name}:{line}", code, *peers))
    if not table:
        return ["None."]
    header = ("kind", "category", "place", "code", "flake8-async", "ruff")
    return _md_table(header, table)


def markdown(results: Row, files: list[EvalFile], skipped: str | None) -> str:
    """The report: what ran, the fixture corpora, the eval files per category, the gaps."""
    v = results["versions"]
    out = [
        "# Peer accuracy: soni-audit, flake8-async and ruff on labelled code",
        "",
        "Generated by `python scripts/peer_accuracy.py --output reports/peer-accuracy.md`.",
        "All three tools run on the same copies of the same files, in one run.",
        "",
        "## What was run",
        "",
        *_md_table(
            ("tool", "version", "command"),
            [
                (
                    "soni-audit",
                    v["soni-audit"],
                    "`python -m audit check --no-cache --select BLK1 .` (BLK100-BLK104; "
                    "BLK105 is opt-in, so `BLK1` leaves it out)",
                ),
                (
                    "flake8-async",
                    v["flake8-async"],
                    "`flake8 --select ASYNC2 .` with default options",
                ),
                ("ruff", v["ruff"], "`ruff check --isolated --no-cache --select ASYNC2 .`"),
            ],
        ),
        "",
        "A hit is a (file, line) pair: a tool's hit on a labelled line is a true positive (TP),",
        "a hit on any other line a false positive (FP), a labelled line without a hit a false",
        "negative (FN). Recall = TP / labelled, precision = TP / found.",
        "",
        "## Labelled fixture corpora",
        "",
        "`tests/fixtures/peer_ground` and `tests/fixtures/beyond_peers`: every line that blocks",
        "the event loop ends in `# blocking` (see `tests/fixtures/README.md`).",
        "",
        *_md_table(
            ("corpus", "labelled", "tool", *COLUMNS),
            [
                (
                    corpus,
                    results[corpus]["labelled"]["count"],
                    tool,
                    *_md_numbers(results[corpus][tool]),
                )
                for corpus in CORPORA
                for tool in TOOLS
            ],
        ),
        "",
        "## flake8-async's eval files",
        "",
    ]
    if skipped:
        return "\n".join([*out, f"Skipped: {skipped}.", ""])
    out += _md_eval_method(results, files)
    by_name = {f.name: f for f in files}
    for variant, title in EVAL_VARIANTS.items():
        out += [f"### {title.capitalize()}", "", *_md_categories(results[variant]), ""]
    out += [
        "### The judged lines",
        "",
        "The markup specifies flake8-async's behaviour, so flake8-async scores 100% recall on",
        "it by construction. The judged truth is our reading of the lines where markup and code",
        "disagree (`scripts/peer_accuracy.toml`); every other line keeps its label.",
        "",
        *_md_table(
            ("file", "lines", "blocks?", "why"),
            [
                (
                    entry["file"],
                    ", ".join(map(str, entry["lines"])),
                    "yes" if entry["blocking"] else "no",
                    entry["reason"],
                )
                for entry in results["eval_files_judged"]["judged"]
            ],
        ),
        "",
        "## soni-audit's misses and false alarms on the eval files",
        "",
        "Each line of code is quoted from the file as shipped, with its trailing comment: a",
        "miss carries the expected-error marker; `# should error` marks a case flake8-async",
        "itself lists as unhandled, which the markup does not label. The peer columns say",
        "whether flake8-async and ruff flag the same line.",
        "",
    ]
    for variant, title in EVAL_VARIANTS.items():
        out += [f"### {title.capitalize()}", "", *_md_gaps(results[variant], by_name), ""]
    return "\n".join(out)


def _md_categories(rows: Row) -> list[str]:
    """One row per category and tool, the category and its labelled count on its first row."""
    table = []
    for code, category in [*rows["categories"].items(), ("**total**", rows)]:
        for index, tool in enumerate(TOOLS):
            lead = (code, category["labelled"]["count"]) if index == 0 else ("", "")
            table.append((*lead, tool, *_md_numbers(category[tool])))
    return _md_table(("category", "labelled", "tool", *COLUMNS), table)


def _md_eval_method(results: Row, files: list[EvalFile]) -> list[str]:
    """How the eval corpus is obtained and how its truth is defined."""
    added = results["eval_files_imports_added"]["imports_added"]
    out = [
        "`tests/eval_files/async2*.py` from the sdist of flake8-async"
        f" {results['versions']['flake8-async']} (the installed version), fetched at run time",
        "with `pip download --no-deps --no-binary :all:` into",
        "`$XDG_CACHE_HOME/soni-audit/peer-eval/` (default `~/.cache/soni-audit/peer-eval/`) and",
        "read with `tarfile`; the files are not copied into this repository. Only the files",
        f"testing the blocking categories {', '.join(EVAL_CATEGORIES)} are used;",
        "ASYNC200 is left out because what it flags is user-configured.",
        "",
        "**Truth.** An expected-error marker in a trailing comment (`# ASYNC212: 4, ...`, also",
        "with a library suffix such as `# ASYNC221_asyncio: ...`, or `# error: ...`) labels its",
        "line as blocking, in the marker's category; a line counts once however many markers it",
        "has. Everything else is unlabelled, including flake8-async's own `# should error`",
        "notes. The markup is flake8-async's specification of its behaviour, not a hand label",
        "of what blocks: it pins a few known false alarms as expected, and an unlabelled line",
        "may still block (e.g. `open()` in a file that tests only ASYNC232).",
        "",
        "**Categories of false positives.** A hit on an unlabelled line counts under the code",
        "the file tests (from its name, or its `# ARG --enable=` list). In a file testing",
        "several codes (`async22x*.py`, `async23x*.py`) it counts under the code of the nearest",
        "labelled line whose marker names a callable the line calls (`'open'`, `'os.fdopen'`),",
        "else of the nearest labelled line (the earlier on a tie): those files group their",
        "cases by callable and code.",
        "",
        "**Library modes.** Expectations hold for the mode flake8-async's own suite checks a",
        "file in: its `# BASE_LIBRARY` (trio unless stated), or, when `# NOTRIO`, `# NOANYIO`",
        "or `# NOASYNCIO` excludes that one, the first mode left (`async232_asyncio.py`:",
        "asyncio); `# <LIB>_NO_ERROR` for that mode would mean no expectations. `# ARG` lines",
        "hold its command-line options, used here only for `--enable=`. flake8-async ran once",
        "with default options over all files, so it picks the library from each file's",
        "imports (trio when none); on the three `*_asyncio.py` files this flags the same lines",
        "as `--asyncio` (checked by hand for 26.8.1). The `*_asyncio.py` files repeat their trio",
        "twins nearly line for line; both are counted, as shipped.",
        "",
        "**Imports added.** The files call modules they never import (`subprocess.run()` with",
        "no `import subprocess`). The second variant prepends one line `import a, b, ...` for",
        "every root of a dotted name the file binds nowhere, when that root is a standard-library",
        "module, importable here, or listed in `scripts/peer_accuracy.toml`; hits are mapped",
        "back to the shipped line numbers.",
        "",
    ]
    out += _md_table(
        ("file", "codes tested", "library", "labelled lines", "imports added"),
        [
            (
                f.name,
                ", ".join(f.codes),
                f.library,
                len(f.labels),
                f"`import {', '.join(added[f.name])}`" if f.name in added else "-",
            )
            for f in files
        ],
    )
    return [*out, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--output", type=Path, help="also write a markdown report to this path")
    args = parser.parse_args()
    results: Row = dict(measure())
    files: list[EvalFile] = []
    skipped = None
    try:
        files = eval_corpus()
    except EvalUnavailable as error:
        skipped = f"flake8-async's eval files skipped: {error}"
        print(skipped, file=sys.stderr)
        results["eval_files_skipped"] = str(error)
    if files:
        results.update(measure_eval(files, extra_modules()))
    results["versions"] = versions()
    if args.output:
        args.output.write_text(markdown(results, files, skipped), encoding="utf-8")
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print_corpora(results, args.verbose)
    if files:
        print_eval(results, files, args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
