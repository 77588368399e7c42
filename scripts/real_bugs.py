"""Recall on real bugs: soni-audit, flake8-async and ruff on each before/after pair.

tests/fixtures/real_bugs/ holds minimal reproductions of maintainer-fixed "blocking call on
the event loop" bugs (manifest.toml cites each issue). A tool catches a bug when it reports a
blocking finding on one of the calls the fix moved off the loop (the manifest's `expected`
lines, or the call that starts the chain); it is silent after when it reports no blocking
finding on the fixed code. All tools run on one copy of the corpus.

    python scripts/real_bugs.py                          # writes reports/real-bugs.md
    python scripts/real_bugs.py --dependencies           # adds soni-audit --dependencies (issue 28)
    python scripts/real_bugs.py --output -               # print it without writing it
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import REPO
from harness.report import emit, render
from harness.tools import SONI_AUDIT, audit_findings

CORPUS = REPO / "tests" / "fixtures" / "real_bugs"
SIDES = ("before", "after")
# A finding is (bug slug, side, path inside the side, line).
Hit = tuple[str, str, str, int]
DEPENDENCIES = "soni-audit --dependencies"
# Findings `--dependencies` makes on fixed code, judged by hand: (slug, file, line) ->
# (true?, why). The fixes moved one blocking call off the loop; others may remain.
AFTER_LABELS: dict[tuple[str, str, int], tuple[bool, str]] = {
    ("ogx-nvidia-eval-requests", "eval_provider/eval.py", 10): (
        True,
        "`httpx.AsyncClient(timeout=...)` built in a coroutine: `verify` left at `True`, so "
        "httpx loads the CA bundle; the fix replaced `requests` and kept this construction.",
    ),
    ("ogx-vllm-sync-openai", "vllm_provider/vllm.py", 11): (
        True,
        "the fix moved to `AsyncOpenAI`, built in `initialize()` on the loop: with no "
        "`http_client`, openai builds an httpx client whose SSL context loads the CA file.",
    ),
    ("ogx-watsonx-iam-property", "watsonx_provider/watsonx.py", 19): (
        True,
        "`httpx.AsyncClient()` built on each token refresh: the CA bundle is read each time.",
    ),
    ("ogx-watsonx-iam-property", "watsonx_provider/watsonx.py", 34): (
        True,
        "`AsyncOpenAI(...)` with no `http_client` builds an httpx client and its SSL "
        "context: the bug of `custom-conversation-asyncopenai`, left in the fixed code.",
    ),
}


@dataclass(frozen=True)
class Bug:
    slug: str
    title: str
    project: str
    urls: tuple[str, ...]
    fix: str
    klass: str
    blocking: str
    needs: str
    soni_audit: str
    expected: tuple[tuple[str, int], ...]


def load_manifest(corpus: Path = CORPUS) -> list[Bug]:
    """The bugs of manifest.toml, with a clear error naming the entry that is malformed."""
    data = tomllib.loads((corpus / "manifest.toml").read_text(encoding="utf-8"))
    bugs = []
    for index, entry in enumerate(data.get("bug", [])):
        try:
            bugs.append(
                Bug(
                    slug=entry["slug"],
                    title=entry["title"],
                    project=entry["project"],
                    urls=tuple(entry["urls"]),
                    fix=entry.get("fix", ""),
                    klass=entry["class"],
                    blocking=entry["blocking"],
                    needs=entry.get("needs", ""),
                    soni_audit=entry["soni-audit"],
                    expected=tuple((e["file"], e["line"]) for e in entry["expected"]),
                )
            )
        except KeyError as missing:
            message = f"{corpus / 'manifest.toml'}: bug #{index + 1} lacks {missing}"
            raise SystemExit(message) from None
    return bugs


def _split(path: str, line: int) -> Hit | None:
    parts = Path(path).parts
    if len(parts) < 3 or parts[1] not in SIDES:
        return None
    return parts[0], parts[1], "/".join(parts[2:]), line


def _run(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def soni_audit(copy: Path, extra: Sequence[str] = (), select: str = "BLK") -> set[Hit]:
    """One run per bug and side, from that side's folder as the project root: the project
    pass reads the whole project, and the bugs' before and after use the same module names,
    as different bugs may."""
    hits: set[Hit] = set()
    for root in sorted(copy.glob("*/*")):
        if root.name not in SIDES:
            continue
        prefix = root.relative_to(copy)
        for finding in audit_findings([*extra, "."], select, root):
            hit = _split(str(prefix / finding["path"]), finding["line"])
            if hit is not None:
                hits.add(hit)
    return hits


def flake8_async(copy: Path) -> set[Hit]:
    result = _run(
        [sys.executable, "-m", "flake8", "--select", "ASYNC2", "--format", "%(path)s:%(row)d", "."],
        copy,
    )
    hits = set()
    for line in result.stdout.split():
        path, row = line.rsplit(":", 1)
        hit = _split(path.removeprefix("./"), int(row))
        if hit is not None:
            hits.add(hit)
    return hits


def ruff(copy: Path) -> set[Hit]:
    result = _run(
        [
            *(sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache"),
            *("--select", "ASYNC", "--output-format", "json", "--exit-zero", "."),
        ],
        copy,
    )
    hits = set()
    for finding in json.loads(result.stdout or "[]"):
        # ASYNC1xx are about cancel scopes and timeouts, not blocking calls.
        if not finding["code"].startswith("ASYNC2"):
            continue
        path = str(Path(finding["filename"]).relative_to(copy))
        hit = _split(path, finding["location"]["row"])
        if hit is not None:
            hits.add(hit)
    return hits


def supports_dependencies() -> bool:
    """Whether this soni-audit has `check --dependencies` (issue 28)."""
    help_text = _run([*SONI_AUDIT, "check", "--help"], REPO).stdout
    return "--dependencies" in help_text


def with_dependencies(bugs: list[Bug], venv: Path) -> Callable[[Path], set[Hit]]:
    """soni-audit with `--dependencies`, reading a virtual environment made here, into which
    the distributions the manifest's `needs` names are installed from the package index
    (their current versions: a bug its maintainers fixed upstream may be gone there)."""
    names = sorted(
        {
            name
            for bug in bugs
            if bug.needs.startswith("dependencies:")
            for name in bug.needs.removeprefix("dependencies:")
            .replace("(", " ")
            .replace(")", " ")
            .split()
        }
    )
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", *names], check=True)
    return lambda copy: soni_audit(copy, ["--dependencies", "--python", python])


def verdict(bug: Bug, hits: set[Hit]) -> dict[str, bool]:
    expected = set(bug.expected)
    caught = any(
        (file, line) in expected
        for slug, side, file, line in hits
        if (slug, side) == (bug.slug, "before")
    )
    silent = not any(slug == bug.slug and side == "after" for slug, side, _, _ in hits)
    return {"caught": caught, "silent_after": silent}


def measure(bugs: list[Bug], dependencies: bool) -> dict[str, Any]:
    tools: dict[str, Callable[[Path], set[Hit]]] = {
        "soni-audit": soni_audit,
        # BLK105 (opt-in) adds the chains that block only on some paths: a helper that
        # reads its file on the first call and caches it, as several of these bugs do.
        "soni-audit + BLK105": lambda copy: soni_audit(copy, select="BLK,BLK105"),
        "flake8-async": flake8_async,
        "ruff": ruff,
    }
    with tempfile.TemporaryDirectory() as scratch:
        if dependencies:
            tools[DEPENDENCIES] = with_dependencies(bugs, Path(scratch) / "venv")
        copy = Path(scratch) / "real_bugs"
        shutil.copytree(CORPUS, copy)
        hits = {name: run(copy) for name, run in tools.items()}
    rows: list[dict[str, Any]] = [
        {"bug": bug, **{name: verdict(bug, hits[name]) for name in tools}} for bug in bugs
    ]
    classes = sorted({bug.klass for bug in bugs})
    by_class = [
        {
            "klass": klass,
            "bugs": sum(1 for row in rows if row["bug"].klass == klass),
            **{
                name: sum(1 for row in rows if row["bug"].klass == klass and row[name]["caught"])
                for name in tools
            },
        }
        for klass in classes
    ]
    totals = {
        name: {
            "caught": sum(1 for row in rows if row[name]["caught"]),
            "silent_after": sum(1 for row in rows if row[name]["silent_after"]),
        }
        for name in tools
    }
    after = [
        {"hit": hit, "label": AFTER_LABELS.get((hit[0], hit[2], hit[3]))}
        for hit in sorted(hits.get(DEPENDENCIES, ()))
        if hit[1] == "after"
    ]
    return {
        "tools": list(tools),
        "rows": rows,
        "by_class": by_class,
        "totals": totals,
        "after_dependencies": after,
    }


def versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("soni", "flake8-async", "ruff")}


def report(results: dict[str, Any], bugs: list[Bug]) -> str:
    return render(
        "real-bugs.md.j2",
        bugs=len(bugs),
        versions=versions(),
        inside_library=sum(1 for bug in bugs if bug.needs),
        **results,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        default=str(REPO / "reports" / "real-bugs.md"),
        help="also write the markdown report here ('-': only print it)",
    )
    parser.add_argument(
        "--dependencies",
        action="store_true",
        help="also run `soni-audit check --dependencies` (needs a soni-audit that has it)",
    )
    args = parser.parse_args(argv)
    if args.dependencies and not supports_dependencies():
        parser.error("this soni-audit has no `check --dependencies` yet (issue 28)")
    bugs = load_manifest()
    text = report(measure(bugs, args.dependencies), bugs)
    emit(text, None if args.output == "-" else Path(args.output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
