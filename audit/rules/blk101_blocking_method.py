"""BLK101: a blocking method called on a receiver whose type is known."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.facts import CALL_GRAPH, FIXES, LOOP_CALLS
from audit.analysis.values import Evidence, TypeOrigin
from audit.interprocedural.context import CallRef, Located, ProjectContext, ProjectFinding
from audit.rules.base import FixExample, RawFinding, Rule, fixer
from audit.rules.blocking_chain import offload_fix

if TYPE_CHECKING:
    from audit.analysis.context import FileContext
    from audit.catalogue import Family


class BlockingMethod(Rule):
    """
    ## What it does
    Flags blocking methods called inside `async def` on an object whose type is known:
    from a parameter or variable annotation (`conn: sqlite3.Connection`, also `Optional[...]`,
    `X | None` and string annotations), from the call that created it
    (`session = requests.Session()`, `sqlite3.connect(path).execute(...)`), from
    `with open(path) as f`, or from an attribute set in a method (`self.client = httpx.Client()`)
    or declared in the class body. Types cross module borders: a receiver made by a class or
    returned by a function of another project module (`p = file_path_to_path(x)` where
    `utils.py` says `-> Path`, `get_redis()` returning a sync `Redis`) is known from that
    module's summary, and the message says where its type came from.

    ## Why is this bad?
    `conn.execute(...)` on a `sqlite3.Connection` or `f.read()` on a file blocks the event loop
    just like a blocking function does, but linters that match function names cannot see it:
    the call is spelled with a variable. Here the receiver's type is followed from where the
    object came from.

    ## Fix
    Unsafe (the call moves to a worker thread, so it runs later and elsewhere):
    `conn.execute(sql)` becomes `await asyncio.to_thread(conn.execute, sql)`, with the thread
    bridge of the async library the module uses. No fix where BLK100's fix is not possible
    either (a `with` header, a comprehension, a class body, a default value).

    ## What is not reported
    Awaited calls (an awaited method belongs to an async object, whatever its annotation says),
    receivers whose type is unclear (a name bound to objects of different types), calls that ask
    not to block (`queue.get(block=False)`, `lock.acquire(blocking=False)`) and methods that do
    no I/O (`f.fileno()`, `path.with_suffix(".txt")`). A socket the code put in non-blocking
    mode raises instead of waiting: after `sock.setblocking(False)` or `settimeout(0)` (for
    `self.sock`, in any method of the class), once handed to a loop method that requires
    that mode (`loop.sock_recv(sock, n)`, `loop.add_reader(sock, ...)`), or inside a `try`
    that handles `BlockingIOError`. `fut.result()` returns at once when `fut` is known to be
    done: after `await asyncio.wrap_future(fut)`, under `if fut.done():`, or after an `await`
    once the coroutine registered `fut.add_done_callback(...)`. A lazy method
    (`path.glob("*")`, `path.iterdir()` before 3.13) is reported where it is iterated.
    """

    code = "BLK101"
    name = "blocking-method-in-async-function"
    summary = "Blocking method called on a receiver of known type inside `async def`"
    needs = LOOP_CALLS | FIXES | CALL_GRAPH

    @classmethod
    def reference(cls) -> str:
        from audit.catalogue import default_catalogue

        lines = ["## Catalogue"]
        for blocking_type in default_catalogue().types.values():
            if blocking_type.family is None:
                continue
            if blocking_type.all_methods:
                exempt = ", ".join(blocking_type.exempt)
                methods = "every method" + (f" except {exempt}" if exempt else "")
            else:
                methods = ", ".join(blocking_type.methods)
            names = ", ".join((blocking_type.name, *blocking_type.aliases))
            lines += ["", f"{names} ({blocking_type.family.id}):", f"  {methods}"]
        return "\n".join(lines)

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for call in ctx.loop_calls:
            blocking = call.blocking
            receiver = call.receiver
            if blocking is None or blocking.family is None or receiver is None:
                continue
            if blocking.heuristic is not None:
                why = f"assumed to be {blocking.heuristic.assumed_type}: the module imports it"
            elif blocking.receiver is not None:
                origin = describe(blocking.receiver.origin)
                why = f"`{blocking.receiver.type}` {origin}"
            else:
                continue
            family = blocking.family
            spelled = ctx.source(call.node.func)
            yield RawFinding(
                self.code,
                call.node,
                f"`{spelled}()` {family.reason} "
                f"(`{ctx.source(receiver, limit=40)}` is {why}); use {family.advice}",
                call.function,
                fix=fixer(ctx).offload(call.site, f"run `{spelled}()` in a worker thread"),
            )

    def check_project(self, project: ProjectContext) -> Iterator[ProjectFinding]:
        """Receivers whose type only another module's summary tells."""
        graph = project.project
        catalogue = graph.catalogue
        for located, edge in graph.async_calls():
            found = graph.deferred_leaf(edge)
            if found is None or catalogue.function_family(found[0].target) is not None:
                continue  # none, or a blocking function reached by another name (BLK100's)
            leaf, expanded = found
            owner = leaf.target.rpartition(".")[0]
            site = CallRef(located.path, edge.call)
            family = catalogue.families[leaf.family or ""]
            yield ProjectFinding(
                self.code,
                site,
                functools.partial(_message, site, family, owner, expanded.origin),
                located.facts.qualname,
                fix=offload_fix,
            )

    VALID = (
        """
        import httpx
        from io import TextIOWrapper

        async def handler(f: TextIOWrapper):
            f: int = 7  # declared again: the name no longer holds the file
            f.read()

        client = httpx.Client()
        client: int = 4

        async def send():
            client.send()
        """,
        """
        async def normalise(path):
            path = path.strip()
            path = path.lower()  # a name rebound from itself
            return path.encode()
        """,
        """
        from concurrent.futures import Future

        class Portal:
            task: Future

            def __init__(self, portal):
                self.task = portal.start_task_soon(self.run)  # of a type not known here

            async def wait(self):
                return self.task.result()  # one binding unknown: no claim on the name
        """,
        """
        import itertools
        from pathlib import Path

        async def first_logs(folder):
            return itertools.islice(Path(folder).glob("*.log"), 3)  # lazy: nothing read here
        """,
        """
        import io

        async def save(chunks, text):
            sink = io.StringIO() if text else io.BytesIO()
            for chunk in chunks:
                sink.write(chunk)  # in memory on every path
        """,
        """
        import asyncio, boto3

        class Mailer:
            def __init__(self, client=None):
                self.client = client or boto3.client("ses")

            async def send(self, message):
                await asyncio.to_thread(self.client.send_email, **message)
        """,
        """
        import asyncio, socket

        async def connect(address):
            sock = socket.socket()
            sock.setblocking(False)
            try:
                sock.connect(address)  # raises BlockingIOError instead of waiting
            except BlockingIOError:
                await asyncio.get_running_loop().sock_connect(sock, address)
            return sock
        """,
        """
        import asyncio
        from concurrent.futures import Future

        async def wait(future: Future):
            await asyncio.wrap_future(future)
            return future.result()  # done: returns at once
        """,
        """
        import aiosqlite

        async def handler(conn: aiosqlite.Connection):
            await conn.execute("select 1")
        """,
        """
        import sqlite3

        async def handler(conn: sqlite3.Connection):
            await conn.execute("select 1")  # awaited: the object is async whatever its annotation
        """,
        """
        import queue, threading

        async def handler(q: queue.Queue, lock: threading.Lock):
            q.get(block=False)
            q.get(False)
            q.get_nowait()
            lock.acquire(blocking=False)
        """,
        """
        import io

        async def handler(path):
            handle = open(path) if path else None
            handle = io.StringIO()  # bound to two types: unknown, not guessed
            handle.read()
        """,
        """
        import httpx

        async def handler(url):
            async with httpx.AsyncClient() as client:
                await client.get(url)
        """,
        """
        import io
        from pathlib import Path

        async def handler(name: str, handle: "io.TextIOWrapper"):
            path = Path(name)
            return path.with_suffix(".txt").name, path.parent, handle.fileno()
        """,
        """
        import redis

        async def handler(r: redis.Redis):
            return r.pipeline()  # builds a pipeline, sends nothing
        """,
        """
        async def handler(pool):
            pool.request("GET", "/")  # urllib3 is not imported: an unknown receiver
        """,
        """
        import asyncio, sqlite3

        async def handler(conn: sqlite3.Connection):
            await asyncio.to_thread(conn.execute, "select 1")

            def work():
                return conn.execute("select 1")

            await asyncio.to_thread(work)
        """,
        """
        class Cache:
            def get(self, key):
                return key

        async def handler(cache: Cache):
            return cache.get("k")  # a project class: BLK103 follows its body instead
        """,
        """
        import sqlite3

        async def handler(conn: sqlite3.Connection | int):
            conn.execute("select 1")  # a union of two types is not guessed
        """,
    )

    INVALID = (
        """
        import heapq, itertools
        from pathlib import Path

        async def newest(folder):
            recent = itertools.islice(Path(folder).glob("*.log"), 100)  # error: iterated below
            return heapq.nlargest(3, recent)
        """,
        """
        import boto3

        class Mailer:
            def __init__(self, client=None):
                self.client = client or boto3.client("ses")

            async def send(self, message):
                self.client.send_email(**message)  # error: blocks where it is the boto3 client
        """,
        """
        import io

        async def save(path, chunks, in_memory):
            if in_memory:
                sink = io.BytesIO()
            else:
                sink = open(path, "wb")  # noqa: BLK100
            for chunk in chunks:
                sink.write(chunk)  # error: blocks on the path where it is a file
        """,
        """
        from typing import Any
        import boto3

        class Uploader:
            client: Any  # says nothing: the assignment says what it is

            def __init__(self):
                self.client = boto3.client("s3")

            async def upload(self, body):
                self.client.put_object(Bucket="b", Key="k", Body=body)  # error
        """,
        """
        import sqlite3

        async def handler(conn: sqlite3.Connection):
            conn.execute("select 1")  # error
            conn.commit()  # error
        """,
        """
        from concurrent.futures import Future

        def wrap_future(future):  # this module's own: awaiting it leaves nothing done
            return Waiter(future)

        async def wait(future: Future):
            await wrap_future(future)
            return future.result()  # error
        """,
        """
        from typing import Optional
        from sqlite3 import Connection

        async def handler(a: Optional[Connection], b: Connection | None, c: "Connection"):
            a.execute("select 1")  # error
            b.execute("select 1")  # error
            c.execute("select 1")  # error
        """,
        """
        import queue, sqlite3
        from typing import Optional as Opt

        async def handler(conn: Opt[sqlite3.Connection], jobs: "queue.Queue[str]"):
            conn.execute("select 1")  # error: `Opt` is `Optional` under another name
            jobs.get()  # error: a generic is its origin type
        """,
        """
        import requests, httpx

        async def fetch(url):
            session = requests.Session()
            session.get(url)  # error
            client = httpx.Client()
            client.post(url)  # error
        """,
        """
        async def read(path):
            with open(path) as handle:
                return handle.read()  # error
        """,
        """
        import httpx

        class Api:
            def __init__(self):
                self.client = httpx.Client()

            async def fetch(self, url):
                return self.client.get(url)  # error
        """,
        """
        import sqlite3
        from dataclasses import dataclass

        @dataclass
        class Store:
            db: sqlite3.Connection

            async def save(self):
                self.db.commit()  # error
        """,
        """
        import sqlite3

        class Store:
            def __init__(self, conn: sqlite3.Connection):
                self.conn = None
                self.conn = conn

            async def save(self):
                self.conn.commit()  # error
        """,
        """
        import sqlite3

        async def rows(path):
            return sqlite3.connect(path).execute("select 1").fetchall()  # error x2
        """,
        """
        import sqlite3

        async def rows(conn: sqlite3.Connection):
            return conn.cursor().fetchall()  # error
        """,
        """
        from pathlib import Path

        async def load(name):
            text = Path(name).read_text()  # error
            exists = (Path(__file__).parent / "data").exists()  # error
            return text, exists
        """,
        """
        import httpx

        client = httpx.Client()

        async def fetch(url):
            return client.get(url)  # error
        """,
        """
        import redis

        async def count(r: redis.Redis):
            return r.incr("hits")  # error
        """,
        """
        import socket

        async def talk(address):
            sock = socket.socket()
            sock.connect(address)  # error
            sock.sendall(b"hi")  # error
            return sock.recv(1024)  # error
        """,
        """
        import queue, threading

        async def wait(q: queue.Queue, lock: threading.Lock, done: threading.Event):
            q.get()  # error
            lock.acquire()  # error
            done.wait()  # error
        """,
        """
        import urllib3

        async def fetch(pool, url):
            return pool.request("GET", url)  # error
        """,
        """
        import subprocess

        async def run(cmd):
            proc = subprocess.Popen(cmd)
            proc.wait()  # error
        """,
        """
        import sqlite3

        async def save(path):
            with sqlite3.connect(path) as conn:
                conn.execute("insert into t values (1)")  # error
        """,
        """
        import sqlite3

        async def save(factory):
            conn: sqlite3.Connection = factory()
            conn.commit()  # error
        """,
        """
        import sqlite3

        def open_db(path) -> sqlite3.Connection:
            return sqlite3.connect(path)

        class Store:
            @property
            def conn(self) -> sqlite3.Connection:
                return open_db("x.db")

            async def save(self):
                self.conn.commit()  # error: typed by the property's annotation
                open_db("y.db").execute("select 1")  # error: typed by the return annotation
        """,
    )

    FIXED = (
        FixExample(
            """
            import sqlite3

            async def save(conn: sqlite3.Connection, row):
                conn.execute("insert into t values (?)", (row,))
            """,
            """
            import asyncio
            import sqlite3

            async def save(conn: sqlite3.Connection, row):
                await asyncio.to_thread(conn.execute, "insert into t values (?)", (row,))
            """,
            unsafe=True,
        ),
    )


def describe(origin: TypeOrigin | None) -> str:
    """How a receiver's type was learnt, in words: "from its annotation `sqlite3.Connection`",
    "returned by `boto3.client()`", "entered from `Session(...)`", "from attribute `conn`
    (returned by `Store()`)"."""
    if origin is None:
        return "from its use"
    name = origin.name
    match origin.evidence:
        case Evidence.RECEIVER:
            return f"from `{name}`"
        case Evidence.ANNOTATION:
            return f"from its annotation `{name}`" if name else "from its annotation"
        case Evidence.CALL:
            return f"returned by `{name.removeprefix('builtins.')}()`"
        case Evidence.RETURN_ANNOTATION:
            return f"from the return annotation of `{name}()`"
        case Evidence.WITH:
            via = origin.via
            if via is not None and via.evidence is Evidence.CALL:
                return f"entered from `{via.name.removeprefix('builtins.')}(...)`"
            return f"entered from a value {describe(via)}"
        case Evidence.ATTRIBUTE:
            return f"from attribute `{name}` ({describe(origin.via)})"
        case Evidence.UNION:
            return f"on one of its paths, {describe(origin.via)}"
        case Evidence.ITEM:
            return f"an item of a value {describe(origin.via)}"


def _message(site: CallRef, family: Family, type_name: str, origin: str, where: Located) -> str:
    written = where.written(site)
    return (
        f"`{written}()` {family.reason} (`{where.receiver(site)}` is `{type_name}` "
        f"from {origin or 'another module'}); use {family.advice}"
    )
