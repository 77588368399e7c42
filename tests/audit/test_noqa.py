"""`# noqa` parsing and matching, as a table."""

from __future__ import annotations

import pytest

from audit.analysis.noqa import parse_suppressions
from audit.core.findings import Finding


def _finding(code: str, line: int = 1) -> Finding:
    return Finding("f.py", line, 1, line, 2, code, "message")


@pytest.mark.parametrize(
    ("line", "code", "suppressed"),
    [
        ("x()  # noqa", "BLK100", True),
        ("x()  # NOQA", "BLK100", True),
        ("x()  # NoQA: BLK100", "BLK100", True),  # any case, not only noqa and NOQA
        ("x()  # noqa: BLK100", "BLK100", True),
        ("x()  # noqa:BLK100", "BLK100", True),
        ("x()  # noqa: BLK100, BLK101", "BLK101", True),
        ("x()  # noqa: BLK100 BLK101", "BLK101", True),
        ("x()  # noqa: BLK", "BLK101", True),
        ("x()  # noqa: BLK100", "BLK101", False),
        ("x()  # noqa: E501", "BLK100", False),
        ("x()  # type: ignore  # noqa: BLK100", "BLK100", True),
        ("x()  # some comment", "BLK100", False),
        ("x()", "BLK100", False),
    ],
)
def test_line_suppression(line: str, code: str, suppressed: bool) -> None:
    assert parse_suppressions(line + "\n").suppresses(_finding(code)) is suppressed


def test_noqa_applies_to_its_own_line_only() -> None:
    suppressions = parse_suppressions("a()\nb()  # noqa\nc()\n")
    assert [suppressions.suppresses(_finding("BLK100", n)) for n in (1, 2, 3)] == [
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("text", "code", "suppressed"),
    [
        ("# soni-audit: noqa\nx()\n", "BLK100", True),
        ("x()\n# soni-audit: noqa: BLK101\n", "BLK101", True),
        ("x()\n# soni-audit: noqa: BLK101\n", "BLK100", False),
        ("# soni-audit: noqa: BLK101\n# soni-audit: noqa\n", "BLK100", True),
        ("x()  # soni-audit: noqa\n", "BLK100", False),  # not on a line of its own
    ],
)
def test_file_suppression(text: str, code: str, suppressed: bool) -> None:
    assert parse_suppressions(text).suppresses(_finding(code, 5)) is suppressed


def test_round_trip_through_json() -> None:
    from audit.core.findings import Suppressions

    original = parse_suppressions("a()  # noqa: BLK100\nb()  # noqa\n# soni-audit: noqa: MUT\n")
    assert Suppressions.from_json(original.to_json()) == original


def test_noqa_on_the_def_line_covers_mutations_in_the_body(tmp_path) -> None:
    from audit.engine.config import Config
    from audit.engine.workspace import Workspace

    (tmp_path / "app.py").write_text(
        "import time\n"
        "def quiet(p):  # noqa: MUT100\n"
        "    p.a = 1\n"
        "    p['k'] = 2\n"
        "def silent(p):  # noqa\n"
        "    p.a = 1\n"
        "    p.append(2)\n"
        "async def loud(p):  # noqa: MUT\n"
        "    p.a = 1\n"
        "    time.sleep(1)\n"
    )
    config = Config(root=tmp_path)
    result = Workspace(config, jobs=1).check([tmp_path], selection=config.selection(), cwd=tmp_path)
    assert [(f.line, f.code) for f in result.findings] == [(4, "MUT101"), (10, "BLK100")]
    assert result.suppressed == 4
