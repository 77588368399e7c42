"""The real-bug corpus (tests/fixtures/real_bugs/) as soni-audit sees it today.

Every bug the manifest marks as caught is reported on `before` at one of its expected calls,
and no bug's `after` (the maintainers' fix, reproduced) has a blocking finding. One soni-audit
process per side over a copy of the whole corpus (the repository excludes tests/fixtures).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

CORPUS = REPO / "tests" / "fixtures" / "real_bugs"
MANIFEST = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))["bug"]
CLASSES = {
    "direct", "project-chain", "cross-module-type", "property", "any-annotation", "llm-sdk",
    "loop-protection", "catalogue-other", "lazy-consumer", "key-callable", "file-writer",
    "union-receiver", "inside-library",
}  # fmt: skip


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[str, str, int]]]:
    """(bug, file inside the side, line) of every blocking finding, by side."""
    copy = tmp_path_factory.mktemp("corpus") / "real_bugs"
    shutil.copytree(CORPUS, copy)
    found: dict[str, set[tuple[str, str, int]]] = {}
    for side in ("before", "after"):
        dirs = sorted(str(p.relative_to(copy)) for p in copy.glob(f"*/{side}"))
        result = subprocess.run(
            [
                *(sys.executable, "-m", "audit", "check", "--no-cache", "--exit-zero"),
                *("--format", "json", "--select", "BLK", *dirs),
            ],
            cwd=copy,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        found[side] = set()
        for finding in json.loads(result.stdout)["findings"]:
            slug, _, *rest = Path(finding["path"]).parts
            found[side].add((slug, "/".join(rest), finding["line"]))
    return found


def test_the_manifest_describes_every_fixture_and_marks_every_expected_line() -> None:
    slugs = [bug["slug"] for bug in MANIFEST]
    assert len(slugs) == len(set(slugs)) >= 24
    assert sorted(slugs) == sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    for bug in MANIFEST:
        assert bug["class"] in CLASSES, bug["slug"]
        assert bug["soni-audit"] in ("caught", "missed"), bug["slug"]
        assert bug["urls"], bug["slug"]
        assert all(u.startswith("https://github.com/") for u in bug["urls"])
        assert (CORPUS / bug["slug"] / "after").is_dir(), bug["slug"]
        for expected in bug["expected"]:
            lines = (CORPUS / bug["slug"] / "before" / expected["file"]).read_text().splitlines()
            assert lines[expected["line"] - 1].endswith(f"# blocks: {expected['code']}"), (
                bug["slug"],
                expected,
            )
    inside = [bug for bug in MANIFEST if bug["class"] == "inside-library"]
    assert len(inside) >= 3
    assert all(bug["needs"].startswith("dependencies: ") for bug in inside)


@pytest.mark.parametrize(
    "bug", [b for b in MANIFEST if b["soni-audit"] == "caught"], ids=lambda b: b["slug"]
)
def test_a_bug_caught_today_is_reported_where_it_blocks(
    bug: dict, findings: dict[str, set[tuple[str, str, int]]]
) -> None:
    expected = {(bug["slug"], e["file"], e["line"]) for e in bug["expected"]}
    assert expected & findings["before"], sorted(
        f for f in findings["before"] if f[0] == bug["slug"]
    )


@pytest.mark.parametrize("bug", MANIFEST, ids=lambda b: b["slug"])
def test_the_fixed_code_is_silent(
    bug: dict, findings: dict[str, set[tuple[str, str, int]]]
) -> None:
    assert not [f for f in findings["after"] if f[0] == bug["slug"]]
