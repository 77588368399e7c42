"""Path-qualified chains: BLK103 when a helper blocks on its ordinary path, BLK105 (opt-in)
when only on some paths, with the condition named; generators block where they are
iterated."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import analyze

SELECT = ("BLK", "BLK105")


def _reported(helper: str, call: str = "helper(flag)") -> list[tuple[str, str]]:
    code = (
        "import os, time\n\n"
        + textwrap.dedent(helper)
        + f"\n\nasync def handler(flag, items):\n    return {call}\n"
    )
    findings = analyze(code, select=SELECT)
    return [(f.code, f.message) for f in findings]


ORDINARY = [
    "def helper(flag):\n    time.sleep(1)\n",
    "def helper(flag):\n    with open('f') as handle:\n        return handle.read()\n",
    "def helper(flag):\n    try:\n        time.sleep(1)\n    except OSError:\n        pass\n",
    "def helper(flag):\n    try:\n        pass\n    finally:\n        time.sleep(1)\n",
    "def helper(flag):\n    try:\n        x = 1\n    except OSError:\n        return\n"
    "    else:\n        time.sleep(x)\n",
    "def helper(flag):\n    while True:\n        time.sleep(1)\n        break\n",
    "def helper(flag):\n    if not flag:\n        raise ValueError(flag)\n    time.sleep(1)\n",
    "def helper(flag):\n    if flag:\n        flag = 2\n    time.sleep(flag)\n",
    "def helper(flag):\n    def inner():\n        return 1\n    time.sleep(inner())\n",
    "def helper(flag):\n    return pause(flag)\n\ndef pause(flag):\n    time.sleep(flag)\n",
]


@pytest.mark.parametrize("helper", ORDINARY)
def test_a_blocking_call_on_the_ordinary_path_is_blk103(helper: str) -> None:
    assert [code for code, _ in _reported(helper)] == ["BLK103"]


CONDITIONAL = [
    ("def helper(flag):\n    if flag:\n        time.sleep(1)\n", "under `if flag`"),
    (
        "def helper(flag):\n    if flag:\n        pass\n    else:\n        time.sleep(1)\n",
        "under the `else` of `if flag`",
    ),
    (
        "def helper(flag):\n    if flag:\n        return None\n    time.sleep(1)\n",
        "after the early `return` under `if flag`",
    ),
    (
        "def helper(flag):\n    for item in flag:\n        time.sleep(item)\n",
        "in a loop over `flag` that may not run",
    ),
    (
        "def helper(flag):\n    while flag:\n        time.sleep(1)\n",
        "in a `while flag` loop that may not run",
    ),
    (
        "def helper(flag):\n    try:\n        pass\n    except OSError:\n        time.sleep(1)\n",
        "in an `except OSError` handler",
    ),
    (
        "def helper(flag):\n    try:\n        pass\n    except:\n        time.sleep(1)\n",
        "in a bare `except` handler",
    ),
    (
        "def helper(flag):\n    match flag:\n        case 1:\n            time.sleep(1)\n",
        "in a `case` of `match flag`",
    ),
    ("def helper(flag):\n    return flag and time.sleep(1)\n", "only evaluated when `flag` is true"),
    (
        "def helper(flag):\n    return time.sleep(1) if flag else None\n",
        "in the branch of a conditional expression taken when `flag` is true",
    ),
    (
        "def helper(flag):\n    return [time.sleep(x) for x in flag]\n",
        "in a loop over `flag` that may not run",
    ),
    (
        "def helper(flag):\n    if flag:\n        return pause()\n\ndef pause():\n    time.sleep(1)\n",
        "in `helper`, under `if flag`",
    ),
]


@pytest.mark.parametrize(("helper", "condition"), CONDITIONAL)
def test_a_blocking_call_on_some_paths_is_blk105_with_its_condition(
    helper: str, condition: str
) -> None:
    ((code, message),) = _reported(helper)
    assert code == "BLK105"
    assert "may block the event loop" in message
    assert condition in message


def test_blk105_is_opt_in() -> None:
    code = "import time\n\ndef helper(flag):\n    if flag:\n        time.sleep(1)\n\n"
    code += "async def handler(flag):\n    helper(flag)\n"
    assert analyze(code) == []  # ALL
    assert analyze(code, select=("BLK",)) == []
    assert analyze(code, select=("BLK1",)) == []
    assert [f.code for f in analyze(code, select=("BLK105",))] == ["BLK105"]
    assert analyze(code, select=("BLK105",), ignore=("BLK",)) == []


def test_an_ordinary_chain_wins_over_a_conditional_one() -> None:
    helper = "def helper(flag):\n    if flag:\n        os.remove('x')\n    time.sleep(1)\n"
    ((code, message),) = _reported(helper)
    assert code == "BLK103"
    assert "time.sleep" in message


GENERATOR = "def rows(path):\n    with open(path) as handle:\n        yield from handle\n"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("rows(flag)", []),  # calling a generator runs none of its body
        ("[r for r in rows(flag)]", ["BLK103"]),
        ("list(rows(flag))", ["BLK103"]),
        ("sorted(rows(flag))", ["BLK103"]),
        ("next(rows(flag))", ["BLK103"]),
        ("', '.join(rows(flag))", ["BLK103"]),
        ("[*rows(flag)]", ["BLK103"]),
        ("dict(enumerate(rows(flag)))", ["BLK103"]),
        ("print(*rows(flag))", ["BLK103"]),
        ("wrap(rows(flag))", ["BLK105"]),  # handed on: may be iterated on the loop
        ("asyncio.to_thread(list, rows(flag))", []),  # consumed in a worker thread
    ],
)
def test_a_generator_blocks_where_it_is_iterated(call: str, expected: list[str]) -> None:
    code = "import asyncio\n\n" + GENERATOR + "\ndef wrap(it):\n    return it\n\n"
    code += f"async def handler(flag):\n    value = {call}\n    return None\n"
    assert [f.code for f in analyze(code, select=SELECT)] == expected


@pytest.mark.parametrize(
    "body",
    [
        "    for row in rows(flag):\n        print(row)\n",
        "    lines = rows(flag)\n    for row in lines:\n        print(row)\n",
        "    first, second = rows(flag)\n",
        "    it = rows(flag)\n    if flag:\n        it = [flag]\n    return list(it)\n",
    ],
)
def test_iterating_a_generator_in_a_coroutine_is_blk103(body: str) -> None:
    code = GENERATOR + "\nasync def handler(flag):\n" + body
    findings = analyze(code, select=SELECT)
    assert [f.code for f in findings] == ["BLK103"]
    assert "as it is iterated" in findings[0].message
    assert findings[0].fix is None  # a thread would only make the generator


def test_returning_a_generator_from_a_coroutine_is_blk105() -> None:
    code = GENERATOR + "\nasync def handler(flag):\n    return rows(flag)\n"
    assert [f.code for f in analyze(code, select=SELECT)] == ["BLK105"]


def test_entering_a_contextmanager_runs_its_generator() -> None:
    code = (
        "from contextlib import contextmanager\n\n@contextmanager\n"
        "def opened(path):\n    handle = open(path)\n    yield handle\n\n"
        "async def handler(path):\n    with opened(path) as handle:\n        return handle\n"
    )
    assert [(f.line, f.code) for f in analyze(code, select=SELECT)] == [(9, "BLK103")]


def test_a_generator_helper_iterating_a_blocking_generator_is_a_chain() -> None:
    code = (
        GENERATOR + "\ndef first(path):\n    for row in rows(path):\n        return row\n\n"
        "async def handler(path):\n    return first(path)\n"
    )
    findings = analyze(code, select=SELECT)
    assert [(f.code, f.chain) for f in findings] == [
        ("BLK103", ("handler", "first", "rows", "open"))
    ]
