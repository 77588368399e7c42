"""Types across module borders (issue 27): receivers made, returned or stored by another
module of the project, through the real CLI on two-module packages. Each case is the
helpers module, the coroutine module, and the findings expected on the coroutine's
`# error` lines (none for the valid cases)."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.conftest import Project

HELPERS = """\
import os
from pathlib import Path
import redis


class FilesystemHelper:
    def list_files(self, root):
        return [f for _, _, f in os.walk(root)]

    def name(self):
        return "fs"


class Store:
    def delete(self, key):
        os.remove(key)

    async def adelete(self, key):
        return None


class Service:
    def __init__(self):
        self.fs = FilesystemHelper()

    @property
    def helper(self) -> FilesystemHelper:
        return self.fs


class Controller:
    def __init__(self):
        self.paths = os.listdir(".")


def file_path_to_path(value) -> Path:
    return Path(value)


def get_redis() -> redis.Redis:
    return redis.Redis()


def in_memory() -> dict:
    return {}


store = FilesystemHelper()
"""

INVALID = [
    (
        "an instance bound to a name",
        """\
        from app.helpers import FilesystemHelper

        async def handler(root):
            helper = FilesystemHelper()
            return helper.list_files(root)  # error: BLK103
        """,
    ),
    (
        "an instance used inline",
        """\
        from app.helpers import FilesystemHelper

        async def handler(root):
            return FilesystemHelper().list_files(root)  # error: BLK103
        """,
    ),
    (
        "an attribute of an instance made in another module",
        """\
        from app.helpers import Service

        async def handler(root):
            return Service().fs.list_files(root)  # error: BLK103
        """,
    ),
    (
        "a property's return annotation",
        """\
        from app.helpers import Service

        async def handler(root):
            service = Service()
            return service.helper.list_files(root)  # error: BLK103
        """,
    ),
    (
        "a module-level instance, imported by name and through its module",
        """\
        from app import helpers
        from app.helpers import store

        async def handler(root):
            store.list_files(root)  # error: BLK103
            return helpers.store.list_files(root)  # error: BLK103
        """,
    ),
    (
        "a constructor that blocks",
        """\
        from app.helpers import Controller as Made

        async def handler():
            return Made()  # error: BLK103
        """,
    ),
    (
        "a library receiver typed by another module's return annotation",
        """\
        from app.helpers import file_path_to_path, get_redis

        async def handler(value):
            path = file_path_to_path(value)
            client = get_redis()
            client.get("key")  # error: BLK101
            return path.stat()  # error: BLK101
        """,
    ),
    (
        "the sync twin of an async method, on an instance made in another module",
        """\
        from app.helpers import Store

        async def handler(key):
            return Store().delete(key)  # error: BLK102
        """,
    ),
    (
        "an attribute assigned in __init__ from another module's class",
        """\
        from app.helpers import FilesystemHelper

        class Handler:
            def __init__(self):
                self.helper = FilesystemHelper()

            async def run(self, root):
                return self.helper.list_files(root)  # error: BLK103
        """,
    ),
]

VALID = [
    (
        "the async twin, awaited",
        """\
        from app.helpers import Store

        async def handler(key):
            return await Store().adelete(key)
        """,
    ),
    (
        "a method that does no I/O",
        """\
        from app.helpers import FilesystemHelper

        async def handler():
            return FilesystemHelper().name()
        """,
    ),
    (
        "offloaded to a thread",
        """\
        import asyncio
        from app.helpers import FilesystemHelper, file_path_to_path

        async def handler(root):
            helper = FilesystemHelper()
            path = file_path_to_path(root)
            await asyncio.to_thread(path.stat)
            return await asyncio.to_thread(helper.list_files, root)
        """,
    ),
    (
        "a return annotation of a type that does no I/O",
        """\
        from app.helpers import in_memory

        async def handler():
            return in_memory().get("key")
        """,
    ),
    (
        "a library function of the same name is not the project's",
        """\
        from somewhere_else import FilesystemHelper

        async def handler(root):
            return FilesystemHelper().list_files(root)
        """,
    ),
    (
        "sync code may block",
        """\
        from app.helpers import FilesystemHelper, file_path_to_path

        def handler(root):
            file_path_to_path(root).stat()
            return FilesystemHelper().list_files(root)
        """,
    ),
]


def _expected(source: str) -> list[tuple[int, str]]:
    return [
        (number, line.split("# error: ")[1].strip())
        for number, line in enumerate(source.splitlines(), start=1)
        if "# error: " in line
    ]


def _check(project: Project, routes: str, *cached: str) -> list[dict]:
    project.write("pyproject.toml", "[tool.soni-audit]\n")
    project.write("app/__init__.py", "")
    project.write("app/helpers.py", HELPERS)
    project.write("app/routes.py", textwrap.dedent(routes))
    result = project.run(
        "check", "--format", "json", "--select", "BLK", *(cached or ["--no-cache"])
    )
    assert result.returncode in (0, 1), result.stderr
    return [f for f in json.loads(result.stdout)["findings"] if f["path"] == "app/routes.py"]


@pytest.mark.parametrize(("case", "routes"), INVALID, ids=[case for case, _ in INVALID])
def test_invalid(project: Project, case: str, routes: str) -> None:
    found = _check(project, routes)
    assert [(f["line"], f["code"]) for f in found] == _expected(textwrap.dedent(routes))


@pytest.mark.parametrize(("case", "routes"), VALID, ids=[case for case, _ in VALID])
def test_valid(project: Project, case: str, routes: str) -> None:
    assert _check(project, routes) == []


def test_the_message_says_where_the_type_came_from(project: Project) -> None:
    (finding,) = _check(
        project,
        """\
        from app.helpers import file_path_to_path

        async def handler(value):
            path = file_path_to_path(value)
            return path.stat()
        """,
    )
    assert "`path` is `pathlib.Path` from the return annotation of" in finding["message"]
    assert "`app.helpers.file_path_to_path()`" in finding["message"]


def test_the_chain_follows_the_helper_into_its_module(project: Project) -> None:
    (finding,) = _check(
        project,
        """\
        from app.helpers import FilesystemHelper

        async def handler(root):
            return FilesystemHelper().list_files(root)
        """,
    )
    assert finding["chain"] == ["handler", "FilesystemHelper.list_files", "os.walk"]
    assert finding["related"][-1]["path"] == "app/helpers.py"


def test_a_changed_helper_module_changes_the_verdict_on_the_next_run(project: Project) -> None:
    routes = """\
        from app.helpers import file_path_to_path

        async def handler(value):
            return file_path_to_path(value).stat()
        """
    assert len(_check(project, routes, "--jobs", "1")) == 1
    # Only the helpers change: the routes module's cached summary is reused as it is.
    project.write("app/helpers.py", HELPERS.replace("-> Path:", "-> dict:"))
    result = project.run("check", "--format", "json", "--select", "BLK")
    assert json.loads(result.stdout)["findings"] == []
