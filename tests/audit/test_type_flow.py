"""How receivers keep their type: flow-sensitive names (a later annotation re-declares a
name, branches merge), tuple assignment, called factory objects, and names bound nowhere in
the file (snippets that omit their imports), matched by their spelling."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import analyze

# Each case: code whose lines ending in `# error` (and only those) are reported by BLK1xx.
CASES = [
    # a later annotation re-declares the name: each use sees the declaration before it
    """
    import io, urllib3

    async def handler():
        c: urllib3.PoolManager = make()
        c.anything()  # error
        c: int = 7
        c.anything()
        c: io.TextIOWrapper = make()
        c.read()  # error
    """,
    # a plain rebinding to something unknown hides the earlier type
    """
    async def handler(path):
        f = open(path)  # error
        f = wrap(f)
        f.read()
    """,
    # branches: either value may hold afterwards; one typed and one unknown is unknown
    """
    async def handler(path, flag):
        if flag:
            f = open(path)  # error
        else:
            f = other()
        f.read()
    """,
    # both branches agree
    """
    import io

    async def handler(flag, a: io.TextIOWrapper, b: io.TextIOWrapper):
        if flag:
            f = a
        else:
            f = b
        f.read()  # error
    """,
    # a binding later in a loop may hold on the next pass
    """
    async def handler(paths):
        f = open(paths[0])  # error
        for p in paths:
            f.read()
            f = other(p)
    """,
    # a declared type holds for later plain assignments of unknown values
    """
    from io import TextIOWrapper

    async def handler():
        f: TextIOWrapper = make()
        f = other()
        f.read()  # error
        f = 7
        f.read()
    """,
    # `Optional` used without its import still reads as `typing.Optional`
    """
    async def handler(client: Optional[httpx.Client]):
        client.send()  # error
    """,
    # tuple assignment pairs targets with values
    """
    async def handler(path):
        f, n = open(path), 3  # error
        f.read()  # error
        n.read()
    """,
    """
    async def handler(path):
        a, b = open(path), open(path)  # error
        a, b = b, a
        a.read()  # error
    """,
    # a name bound nowhere is matched by its spelling (a pasted snippet)
    """
    async def handler():
        subprocess.run(["ls"])  # error
        time.sleep(1)  # error
        client = httpx.Client()
        client.get("u")  # error
    """,
    # ... never when it is bound to something else
    """
    subprocess = load_plugin()

    async def handler():
        subprocess.run(["ls"])
    """,
    """
    async def handler(time):
        time.sleep(1)
    """,
    # ... nor when a star import may bind it
    """
    from helpers import *

    async def handler():
        subprocess.run(["ls"])
    """,
    # ... and an unknown spelled name is not a call-graph edge, even when it spells a
    # project function (this module is `example`)
    """
    import time

    def load():
        time.sleep(1)

    async def handler():
        example.load()
    """,
]


def _expected(code: str) -> list[int]:
    lines = textwrap.dedent(code).splitlines()
    return [number for number, line in enumerate(lines, start=1) if line.endswith("# error")]


@pytest.mark.parametrize("code", CASES)
def test_receivers_keep_their_type_along_the_flow(code: str) -> None:
    found = analyze(code, select=("BLK1",))
    assert sorted({f.line for f in found}) == _expected(code), [f.message for f in found]


def test_a_spelled_name_says_so_and_offers_no_fix() -> None:
    (finding,) = analyze("async def handler():\n    subprocess.run(['ls'])\n", select=("BLK",))
    assert "matched by its spelling: `subprocess` is bound nowhere in this file" in (
        finding.message
    )
    assert finding.fix is None


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("import io\n\nasync def h(f: io.TextIOWrapper):\n    f.read()\n", "from its annotation"),
        ("async def h(p):\n    f = open(p)\n    f.read()\n", "returned by `open()`"),
        (
            "import smtplib\n\nasync def h():\n"
            "    with smtplib.SMTP('h') as s:\n        s.send_message(None)\n",
            "entered from `smtplib.SMTP(...)`",
        ),
    ],
)
def test_the_message_says_how_the_type_was_found(code: str, said: str) -> None:
    messages = [f.message for f in analyze(code, select=("BLK101",))]
    assert len(messages) == 1, messages
    assert said in messages[0]
