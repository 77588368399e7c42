"""On the peers' own ground soni-audit is at least as good as flake8-async; beyond it, better.

Runs scripts/peer_accuracy.py, which runs all three tools on the labelled corpora.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
