"""Calls of blocking callables that do not block where they are made: sockets in non-blocking
mode, futures known to be done, lazy iterators not iterated, numeric-only lookups."""

from __future__ import annotations

import pytest

from tests.conftest import analyze

SOCKETS_VALID = [
    # set non-blocking in the same function
    "    sock = socket.socket()\n    sock.setblocking(False)\n    sock.connect(addr)\n",
    "    sock = socket.socket()\n    sock.setblocking(0)\n    return sock.recv(10)\n",
    "    sock = socket.socket()\n    sock.settimeout(0)\n    sock.send(b'x')\n",
    "    sock = socket.socket()\n    sock.settimeout(0.0)\n    sock.sendall(b'x')\n",
    # the code waits for readiness itself: the socket is non-blocking
    "    try:\n        return sock.recv(10)\n    except BlockingIOError:\n        pass\n",
    "    try:\n        return sock.recv(10)\n    except (InterruptedError, BlockingIOError):\n"
    "        pass\n",
    "    try:\n        sock.send(b'x')\n    except ssl.SSLWantWriteError:\n        pass\n",
    # handed to a loop method that only takes non-blocking sockets
    "    await loop.sock_sendall(sock, b'x')\n    return sock.recv(10)\n",
    "    loop.add_reader(sock, print)\n    return sock.recv(10)\n",
    # created non-blocking
    "    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)\n"
    "    s.connect(addr)\n",
    # handed to the loop's transports, which need non-blocking mode
    "    await loop.create_connection(asyncio.Protocol, sock=sock)\n    sock.send(b'x')\n",
    "    await asyncio.open_connection(sock=sock)\n    sock.recv(1)\n",
]

SOCKETS_INVALID = [
    "    sock.recv(10)\n",
    "    sock = socket.socket()\n    sock.settimeout(5)\n    sock.connect(addr)\n",
    "    sock = socket.socket()\n    sock.setblocking(True)\n    sock.connect(addr)\n",
    "    other.setblocking(False)\n    sock.recv(10)\n",
    "    try:\n        sock.recv(10)\n    except OSError:\n        pass\n",
    "    try:\n        pass\n    except BlockingIOError:\n        sock.recv(10)\n",
    "    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n    s.connect(addr)\n",
    "    await loop.create_connection(asyncio.Protocol, sock=other)\n    sock.send(b'x')\n",
]


def _socket_code(body: str) -> str:
    return (
        "import asyncio, socket, ssl\n\n"
        "async def handler(sock: socket.socket, other: socket.socket, addr):\n"
        "    loop = asyncio.get_running_loop()\n" + body
    )


@pytest.mark.parametrize("body", SOCKETS_VALID)
def test_a_non_blocking_socket_is_not_a_blocking_receiver(body: str) -> None:
    assert analyze(_socket_code(body), select=("BLK",)) == []


@pytest.mark.parametrize("body", SOCKETS_INVALID)
def test_a_blocking_socket_still_is(body: str) -> None:
    assert [f.code for f in analyze(_socket_code(body), select=("BLK",))] == ["BLK101"]


def test_a_socket_attribute_made_non_blocking_in_another_method() -> None:
    code = """\
    import socket

    class Connection:
        def __init__(self, sock: socket.socket, peer: socket.socket):
            self.sock = sock
            self.peer = peer
            self.sock.setblocking(False)

        async def read(self):
            return self.sock.recv(1024)

        async def relay(self):
            return self.peer.recv(1024)  # error: only `self.sock` is non-blocking
    """
    assert [f.line for f in analyze(code, select=("BLK",))] == [13]


FUTURES_VALID = [
    "    await asyncio.wrap_future(fut)\n    return fut.result()\n",
    "    await asyncio.shield(asyncio.wrap_future(fut))\n    return fut.result()\n",
    "    if fut.done():\n        return fut.result()\n",
    "    if not fut.done():\n        return None\n    return fut.exception()\n",
    "    if not fut.done():\n        return None\n    else:\n        return fut.result()\n",
    "    while not fut.done():\n        await asyncio.sleep(0.1)\n    return fut.result()\n",
    "    fut.add_done_callback(lambda _: event.set())\n    await event.wait()\n"
    "    return fut.result()\n",
    "    fut.add_done_callback(print)\n    try:\n        await event.wait()\n"
    "    except asyncio.CancelledError:\n        await event.wait()\n        fut.result()\n"
    "        raise\n    return fut.result()\n",
]

FUTURES_INVALID = [
    "    return fut.result()\n",
    "    fut.result()\n    await asyncio.wrap_future(fut)\n",
    "    if flag:\n        await asyncio.wrap_future(fut)\n    return fut.result()\n",
    "    if fut.done():\n        pass\n    return fut.result()\n",
    "    await asyncio.wrap_future(other)\n    return fut.result()\n",
    "    fut.add_done_callback(print)\n    return fut.result()\n",
]


def _future_code(body: str) -> str:
    return (
        "import asyncio\nfrom concurrent.futures import Future\n\n"
        "async def handler(fut: Future, other: Future, event: asyncio.Event, flag):\n" + body
    )


@pytest.mark.parametrize("body", FUTURES_VALID)
def test_a_done_future_returns_at_once(body: str) -> None:
    assert analyze(_future_code(body), select=("BLK",)) == []


@pytest.mark.parametrize("body", FUTURES_INVALID)
def test_a_future_not_known_to_be_done_blocks(body: str) -> None:
    codes = [f.code for f in analyze(_future_code(body), select=("BLK",))]
    assert codes == ["BLK101"]


@pytest.mark.parametrize(
    ("body", "lines"),
    [
        ("    it = os.walk(path)\n    return await asyncio.to_thread(next, it)\n", []),
        ("    for entry in os.walk(path):\n        print(entry)\n", [6]),
        ("    return list(os.walk(path))\n", [6]),
        ("    found = glob.iglob(path)\n    return sorted(found)\n", [6]),
        ("    gen = pathlib.Path(path).rglob('*')\n    await asyncio.to_thread(list, gen)\n", []),
        ("    return [p for p in pathlib.Path(path).glob('*')]\n", [6]),
        ("    return os.listdir(path)\n", [6]),  # eager: blocks at the call
    ],
)
def test_a_lazy_iterator_blocks_where_it_is_iterated(body: str, lines: list[int]) -> None:
    code = "import asyncio, glob, os, pathlib\n\n\nasync def handler(path):\n    pass\n" + body
    assert [f.line for f in analyze(code, select=("BLK",))] == lines


@pytest.mark.parametrize(
    ("call", "blocking"),
    [
        ("socket.getaddrinfo(host, 80)", True),
        ("socket.getaddrinfo(host, 80, flags=socket.AI_NUMERICHOST)", False),
        ("socket.getaddrinfo(host, 0, socket.AF_UNSPEC, 0, 0, socket.AI_NUMERICHOST)", False),
        ("socket.getaddrinfo(host, 0, flags=AI_PASSIVE | AI_NUMERICHOST)", False),
        ("socket.getaddrinfo(host, 0, flags=socket.AI_PASSIVE)", True),
        ("socket.getnameinfo(address, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)", False),
        ("socket.getnameinfo(address, socket.NI_NAMEREQD)", True),
    ],
)
def test_numeric_only_lookups_do_not_block(call: str, blocking: bool) -> None:
    code = (
        "import socket\nfrom socket import AI_NUMERICHOST, AI_PASSIVE\n\n"
        f"async def handler(host, address):\n    return {call}\n"
    )
    assert bool(analyze(code, select=("BLK",))) is blocking


def test_an_in_memory_spooled_file_is_not_a_blocking_receiver() -> None:
    code = """\
    import tempfile

    async def handler(chunk):
        buffer = tempfile.SpooledTemporaryFile(1024)
        buffer.write(chunk)
        return buffer
    """
    assert analyze(code, select=("BLK",)) == []
