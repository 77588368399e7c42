"""BLK100: a known blocking callable called on the event loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from audit.analysis.callbacks import blocking_keys
from audit.analysis.facts import FIXES, LOOP_CALLS
from audit.rules.base import FixExample, RawFinding, Rule, fixer

if TYPE_CHECKING:
    from audit.analysis.context import FileContext


class BlockingCall(Rule):
    """
    ## What it does
    Flags calls of known blocking functions inside `async def`: `time.sleep`, `open`,
    `requests.get`, `subprocess.run`, `os.path.exists`, `sqlite3.connect` and the rest of the
    catalogue (`soni-audit rules BLK100` lists it). Names are resolved through imports and
    aliases (`from time import sleep as snooze`), and a local name that shadows a builtin or an
    import (`def open(...)`, a parameter called `time`) is not mistaken for it. In a snippet
    that omits its imports (a notebook cell, a doctest, code pasted into an issue), a dotted
    name whose root is bound nowhere in the file (`subprocess.run(...)` with no `import
    subprocess`) is matched by its spelling; the message says so and no fix is offered.

    ## Why is this bad?
    A coroutine runs on the event loop's thread. While a blocking call waits for the disk,
    the network, a subprocess or a timer, no other task runs: every request the server is
    handling stalls for as long as the slowest call.

    ## Fix
    Safe where the catalogue names a drop-in async replacement: `time.sleep(x)` becomes
    `await asyncio.sleep(x)` (`trio.sleep`, `anyio.sleep` in modules that use those
    libraries), with `import asyncio` added where missing. Otherwise unsafe (the call moves to
    a worker thread, so it runs later and elsewhere): `f(a, k=v)` becomes
    `await asyncio.to_thread(f, a, k=v)`, or `await anyio.to_thread.run_sync(...)` with a
    `functools.partial` for keywords in anyio and trio modules. Calls in a `with` header, a
    comprehension, a class body, a decorator or a default value get no fix; `--diff` says why.

    ## What is not reported
    Calls in a nested sync `def` or `lambda` (they run wherever they are called), references
    handed to a thread bridge (`await asyncio.to_thread(time.sleep, 1)`,
    `loop.run_in_executor(None, f)`, `anyio.to_thread.run_sync(f)`), and module-level code.
    Class bodies, comprehensions, decorators and default values written inside an `async def`
    run on the loop and are checked. A lazy callable (`os.walk`, `glob.iglob`) only makes an
    iterator: it is reported where it is iterated (`for`, `list(...)`), not where the
    iterator is made and handed to a thread. Arguments can make a call return at once
    (`getaddrinfo(ip, 0, flags=AI_NUMERICHOST)` parses and looks nothing up). Branches that
    cannot run on the target interpreter (`if sys.version_info < (3, 9):`, `if TYPE_CHECKING:`,
    `if False:`, a module flag such as `_IS_SYNC = False`) are not checked.
    """

    code = "BLK100"
    name = "blocking-call-in-async-function"
    summary = "Known blocking callable called inside `async def`"
    needs = LOOP_CALLS | FIXES

    @classmethod
    def reference(cls) -> str:
        from audit.catalogue import default_catalogue

        lines = ["## Catalogue"]
        for family in default_catalogue().families.values():
            if family.functions:
                lines += ["", f"{family.id}: {family.reason}; use {family.advice}"]
                lines += [f"  {name}" for name in family.functions]
        return "\n".join(lines)

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for call in ctx.loop_calls:
            blocking = call.blocking
            if blocking is None or blocking.family is None or blocking.is_method:
                continue
            spelled = ctx.source(call.node.func)
            shown = blocking.callee.removeprefix("builtins.")
            resolved = "" if spelled == shown else f" (`{shown}`)"
            if blocking.spelled:
                root = shown.partition(".")[0]
                resolved = f" (matched by its spelling: `{root}` is bound nowhere in this file)"
            family = blocking.family
            replacement = family.replacement(ctx.imported_packages)
            fix = (
                None  # what the name is, the file does not say
                if blocking.spelled
                else fixer(ctx).await_instead(
                    call.site, replacement, f"use `await {replacement.callable}(...)`"
                )
                if replacement is not None
                else fixer(ctx).offload(call.site, f"run `{spelled}()` in a worker thread")
            )
            yield RawFinding(
                self.code,
                call.node,
                f"`{spelled}()`{resolved} {family.reason}; use {family.advice}",
                call.function,
                fix=fix,
            )
        for handed in blocking_keys(ctx):
            caller = ctx.source(handed.call.node.func)
            name = ctx.source(handed.argument)
            yield RawFinding(
                self.code,
                handed.argument,
                f"`{name}`, the `key=` of `{caller}()`, runs once per element on the event "
                f"loop and {handed.family.reason}; run the whole `{caller}()` in a worker "
                f"thread (`await asyncio.to_thread({caller}, ...)`)",
                handed.call.function,
                fix=fixer(ctx).offload(handed.call.site, f"run `{caller}()` in a worker thread"),
            )

    VALID = (
        """
        import asyncio, os

        async def newest(paths):
            return await asyncio.to_thread(max, paths, key=os.path.getmtime)
        """,
        """
        import os

        async def shortest(paths):
            return min(paths, key=len)  # a key that does no I/O
        """,
        """
        import asyncio

        async def handler():
            await asyncio.sleep(1)
        """,
        """
        from helpers import *

        async def handler():
            subprocess.run(["ls"])  # a star import may bind `subprocess` to anything
        """,
        """
        import asyncio, os

        async def tree(path):
            walker = os.walk(path)  # only an iterator: it is advanced in a thread
            return await asyncio.to_thread(next, walker)
        """,
        """
        import os

        def list(iterator):  # this module's own `list` iterates nothing
            return Deferred(iterator)

        async def tree(path):
            return list(os.walk(path))  # only an iterator, handed to the module's `list`
        """,
        """
        import socket

        async def parse(ip):
            return socket.getaddrinfo(ip, 0, flags=socket.AI_NUMERICHOST)  # no lookup
        """,
        """
        import sys, time

        async def handler():
            if sys.version_info < (3, 8):
                time.sleep(1)  # cannot run on the target interpreter
        """,
        """
        import time

        def sync_helper():
            time.sleep(1)  # not a coroutine
        """,
        """
        import time

        async def handler():
            def later():
                time.sleep(1)  # a nested sync def is its own context
            return later
        """,
        """
        import time

        async def handler():
            callback = lambda: time.sleep(1)
            return callback
        """,
        """
        import asyncio, functools, time, anyio

        async def handler(loop, path):
            await asyncio.to_thread(time.sleep, 1)
            await loop.run_in_executor(None, time.sleep, 1)
            await loop.run_in_executor(None, functools.partial(open, path))
            await anyio.to_thread.run_sync(time.sleep, 1)
        """,
        """
        from asyncio import sleep

        async def handler():
            await sleep(1)
        """,
        """
        def open(path):
            return path

        async def handler():
            return open("x")  # the module's own open, not the builtin
        """,
        """
        from aiofiles import open

        async def handler():
            async with open("x") as f:
                return await f.read()
        """,
        """
        import time

        async def handler(time):
            time.sleep(1)  # the parameter shadows the module
        """,
        """
        async def handler(sleep):
            await sleep(1)
        """,
        """
        import os.path

        async def handler(root, name):
            return os.path.join(root, os.path.basename(name))  # pure string functions
        """,
        """
        import requests

        async def handler():
            fetch = requests.get  # a reference, not a call
            return fetch
        """,
        """
        import time

        time.sleep(1)  # module level runs before the loop

        class Config:
            data = open("settings.toml").read()
        """,
        """
        async def handler(clock):
            clock.sleep(1)  # unknown receiver, not the time module
        """,
        """
        import trio

        async def handler():
            await trio.sleep(1)
            await trio.open_file("x")
        """,
    )

    INVALID = (
        """
        import os

        async def newest(paths):
            return max(paths, key=os.path.getmtime)  # error: a stat per element
        """,
        """
        import os.path

        async def by_size(paths):
            paths.sort(key=os.path.getsize)  # error
        """,
        """
        import time

        async def handler():
            time.sleep(1)  # error
        """,
        """
        from time import sleep as snooze

        async def handler():
            snooze(1)  # error
        """,
        """
        async def handler():  # a pasted snippet: `subprocess` is imported nowhere
            subprocess.run(["ls"])  # error
        """,
        """
        import time as t

        snooze = t.sleep

        async def handler():
            snooze(1)  # error
        """,
        """
        import requests, httpx, urllib.request, urllib3

        async def fetch(url):
            requests.get(url)  # error
            requests.post(url, json={})  # error
            httpx.get(url)  # error
            urllib.request.urlopen(url)  # error
            urllib3.request("GET", url)  # error
        """,
        """
        import os, subprocess

        async def run(cmd):
            subprocess.run(cmd)  # error
            subprocess.check_output(cmd)  # error
            subprocess.Popen(cmd)  # error
            os.system("ls")  # error
            os.popen("ls")  # error
            os.spawnl(os.P_WAIT, "/bin/ls")  # error
            os.waitpid(0, 0)  # error
        """,
        """
        import io, os, tempfile

        async def write(path, fd):
            open(path)  # error
            io.open(path)  # error
            os.fdopen(fd)  # error
            tempfile.NamedTemporaryFile()  # error
        """,
        """
        import os, os.path, shutil, glob
        from os.path import isfile
        from pathlib import Path

        async def tidy(path):
            os.path.exists(path)  # error
            isfile(path)  # error
            os.remove(path)  # error
            os.listdir(path)  # error
            shutil.rmtree(path)  # error
            glob.glob("*.py")  # error
            Path.cwd()  # error
        """,
        """
        import json

        async def load(handle):
            return json.load(handle)  # error
        """,
        """
        import socket, sqlite3, psycopg2

        async def connect(host):
            socket.getaddrinfo(host, 80)  # error
            sqlite3.connect("db.sqlite")  # error
            psycopg2.connect("dbname=x")  # error
        """,
        """
        async def ask():
            return input("name? ")  # error
        """,
        """
        import time

        async def handler():
            class Local:
                pause = time.sleep(1)  # error: a class body runs where it is written

                def method(self):
                    time.sleep(1)
            return Local
        """,
        """
        import time

        async def handler(items):
            return [time.sleep(i) for i in items]  # error
        """,
        """
        import time

        async def handler():
            def later(delay=time.sleep(1)):  # error: defaults run at definition
                return delay
            return later
        """,
        """
        import time, asyncio

        async def handler():
            await asyncio.to_thread(time.sleep(1))  # error: called before the bridge runs
        """,
        """
        import time

        async def handler():
            await time.sleep(1)  # error: awaiting does not make it async
        """,
        """
        async def handler():
            import time
            time.sleep(1)  # error
        """,
        """
        import time

        def outer():
            async def inner():
                time.sleep(1)  # error
            return inner
        """,
        """
        from time import *

        async def handler():
            sleep(1)  # error
        """,
        """
        import time

        class Service:
            async def handle(self):
                time.sleep(0.1)  # error
        """,
    )

    FIXED = (
        FixExample(
            """
            import time

            async def handler():
                time.sleep(1)
            """,
            """
            import asyncio
            import time

            async def handler():
                await asyncio.sleep(1)
            """,
        ),
        FixExample(
            """
            import time, trio

            async def handler():
                time.sleep(0.5)
            """,
            """
            import time, trio

            async def handler():
                await trio.sleep(0.5)
            """,
        ),
        FixExample(
            """
            import shutil

            async def clean(path):
                shutil.rmtree(path, ignore_errors=True)
            """,
            """
            import asyncio
            import shutil

            async def clean(path):
                await asyncio.to_thread(shutil.rmtree, path, ignore_errors=True)
            """,
            unsafe=True,
        ),
        FixExample(
            """
            import anyio, subprocess

            async def deploy(cmd):
                subprocess.run(cmd, check=True)
            """,
            """
            import anyio, subprocess
            import functools

            async def deploy(cmd):
                await anyio.to_thread.run_sync(functools.partial(subprocess.run, cmd, check=True))
            """,
            unsafe=True,
        ),
    )
