"""On the peers' own ground soni-audit is at least as good as flake8-async; beyond it, better.

Runs scripts/peer_accuracy.py, which runs all three tools on the labelled corpora.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import peer_accuracy
from tests.conftest import REPO


@pytest.fixture(scope="module")
def accuracy() -> dict:
    output = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "peer_accuracy.py"), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    return json.loads(output)


def test_peer_ground_recall_and_precision_at_least_flake8_async(accuracy: dict) -> None:
    ours, theirs = accuracy["peer_ground"]["soni-audit"], accuracy["peer_ground"]["flake8-async"]
    assert theirs["found"] > 0, "flake8-async did not run"
    assert ours["recall"] >= theirs["recall"], ours["false_negatives"]
    assert ours["precision"] >= theirs["precision"], ours["false_positives"]
    assert ours["recall"] >= accuracy["peer_ground"]["ruff"]["recall"]


def test_receivers_typed_by_annotation_are_found_where_peers_miss(accuracy: dict) -> None:
    beyond = accuracy["beyond_peers"]
    assert beyond["soni-audit"]["recall"] == 1.0, beyond["soni-audit"]["false_negatives"]
    assert beyond["soni-audit"]["false_positives"] == []
    assert beyond["flake8-async"]["recall"] < 0.5
    assert beyond["ruff"]["recall"] < 0.5


# --- flake8-async's eval files as a further corpus (scripts/peer_accuracy.py) ---------------


EVAL_SAMPLE = """\
# ARG --enable=ASYNC230,ASYNC231
# NOANYIO # a header, not a label: ASYNC230: 4, 'open'
import os


async def foo():
    open("")  # ASYNC230: 4, 'open', "trio"
    os.fdopen(0)  # ASYNC231_asyncio: 4, 'os.fdopen'
    x = "# ASYNC230: 4, 'open'"
    # ASYNC231: 4, 'os.fdopen'
    open("") if x else open("")  # ASYNC230: 4, 'open'  # ASYNC230: 23, 'open'
    await open("")
    os.fdopen(0).read()  # should error
"""


def test_eval_markup_labels_trailing_markers_only() -> None:
    f = peer_accuracy.parse_eval_file("async23x.py", EVAL_SAMPLE)
    assert f.codes == ("ASYNC230", "ASYNC231")
    assert f.labels == {7: "ASYNC230", 8: "ASYNC231", 11: "ASYNC230"}
    assert f.callees == {7: "open", 8: "os.fdopen", 11: "open"}
    assert f.library == "trio"
    # an unlabelled hit counts under the code of the nearest line calling the same callable
    assert f.category(12) == "ASYNC230"  # `await open("")`: line 8 is nearer, but os.fdopen
    assert f.category(13) == "ASYNC231"
    assert peer_accuracy.parse_eval_file("async251.py", "time.sleep(1)  # error: 4\n").labels == {
        1: "ASYNC251"
    }


def test_eval_library_mode_and_no_error_headers() -> None:
    twin = peer_accuracy.parse_eval_file(
        "async232_asyncio.py", "# NOTRIO\n# NOANYIO\nf.read()  # ASYNC232_asyncio: 4\n"
    )
    assert (twin.library, twin.labels) == ("asyncio", {3: "ASYNC232"})
    based = peer_accuracy.parse_eval_file(
        "async22x_asyncio.py", "# ARG --enable=ASYNC220\n# BASE_LIBRARY asyncio\n"
    )
    assert (based.library, based.codes) == ("asyncio", ("ASYNC220",))
    silent = peer_accuracy.parse_eval_file(
        "async251.py", "# TRIO_NO_ERROR\ntime.sleep(1)  # ASYNC251: 4\n"
    )
    assert silent.labels == {}


def test_with_imports_adds_one_line_after_future_imports() -> None:
    text = '''"""Doc."""
from __future__ import annotations


async def foo(client):
    subprocess.run()  # ASYNC221: 4
    os.path.isfile("")
    client.send()
    httpx2.get("")
    undefined_thing.attribute()
'''
    patched = peer_accuracy.with_imports(text, frozenset({"httpx2"}))
    assert patched.modules == ("httpx2", "os", "subprocess")
    lines = patched.text.splitlines()
    assert lines[:3] == [
        '"""Doc."""',
        "from __future__ import annotations",
        "import httpx2, os, subprocess",
    ]
    assert lines[3:] == text.splitlines()[2:]
    compile(patched.text, "sample.py", "exec")  # the future import still comes first
    assert [patched.original_line(n) for n in (1, 2, 3, 4, 7)] == [1, 2, 0, 3, 6]
    assert peer_accuracy.with_imports("import os\nos.getcwd()\n", frozenset()).line == 0


def test_eval_sources_reads_only_eval_files_from_the_sdist(tmp_path: Path) -> None:
    tarball = tmp_path / "flake8_async-1.0.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        for name, body in (
            ("flake8_async-1.0/tests/eval_files/async210.py", b"requests.get()\n"),
            ("flake8_async-1.0/tests/eval_files/async100.py", b"x = 1\n"),
            ("flake8_async-1.0/tests/async211.py", b"x = 2\n"),
        ):
            member = tarfile.TarInfo(name)
            member.size = len(body)
            archive.addfile(member, io.BytesIO(body))
        link = tarfile.TarInfo("flake8_async-1.0/tests/eval_files/async212.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    assert peer_accuracy.eval_sources(tarball) == {"async210.py": "requests.get()\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [tarball.name]  # nothing extracted


def test_offline_skips_the_eval_corpus_with_a_clear_message(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "peer_accuracy.py"), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env=env,
    )
    result = json.loads(done.stdout)
    assert "pip download --no-deps --no-binary :all: flake8-async==" in done.stderr
    assert "failed" in result["eval_files_skipped"]
    assert "eval_files" not in result
    assert result["peer_ground"]["soni-audit"]["found"] > 0


def test_eval_files_scored_per_category_in_both_variants(accuracy: dict) -> None:
    if "eval_files_skipped" in accuracy:
        pytest.skip(f"PyPI unreachable: {accuracy['eval_files_skipped']}")
    shipped, added = accuracy["eval_files"], accuracy["eval_files_imports_added"]
    assert "async200.py" not in shipped["files"]
    assert shipped["labelled"]["count"] > 200
    for code, row in shipped["categories"].items():
        assert row["labelled"]["count"] > 0, code
        # flake8-async meets its own expectations: the markup is read as flake8-async means it
        assert row["flake8-async"]["recall"] == 1.0, (code, row["flake8-async"]["false_negatives"])
    assert added["imports_added"]["async22x.py"] == ["os", "subprocess"]
    assert added["labelled"] == shipped["labelled"]
    # ruff resolves names through imports only, so the added imports are what it needs
    assert added["ruff"]["recall"] > shipped["ruff"]["recall"]


def test_judged_lines_relabel_the_markup_and_stop_when_the_files_move(
tmp_path: Path) -> None:
    text = "x = open('')\nf.read()  # ASYNC232: 4\nnormpath('')  # ASYNC232: 4\n"
    eval_file = peer_accuracy.parse_eval_file("async232.py", text)
    data = tmp_path / "judged.toml"
    data.write_text(
        '[[judged]]\nfile = "async232.py"\nlines = [1]\ntext = "open("\nblocking = true\n'
        'reason = "r"\n\n[[judged]]\nfile = "async232.py"\nlines = [3]\ntext = "normpath"\n'
        'blocking = false\nreason = "r"\n',
        encoding="utf-8",
    )
    (relabelled,) = peer_accuracy.judged([eval_file], data)
    assert relabelled.labels == {1: "ASYNC232", 2: "ASYNC232"}
    data.write_text(
        '[[judged]]\nfile = "async232.py"\nlines = [2]\ntext = "open("\nblocking = true\n'
        'reason = "r"\n',
        encoding="utf-8",
    )
    with pytest.raises(SystemExit, match=r"async232.py:2 does not contain 'open\('"):
        peer_accuracy.judged([eval_file], data)


def test_judged_truth_is_scored_beside_the_markup(accuracy: dict) -> None:
    if "eval_files_skipped" in accuracy:
        pytest.skip(f"PyPI unreachable: {accuracy['eval_files_skipped']}")
    added, judged = accuracy["eval_files_imports_added"], accuracy["eval_files_judged"]
    assert judged["labelled"]["count"] != added["labelled"]["count"]
    # flake8-async's own admitted misses (`# should error`) count against it here
    assert judged["flake8-async"]["recall"] < 1.0
    assert judged["judged"], "the judgements are reported with their reasons"
