"""BLK102/BLK103 across modules, through the real CLI on multi-module packages."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Project


def _findings(project: Project, *args: str) -> list[dict]:
    result = project.run("check", "--format", "json", "--select", "BLK", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["findings"]


def _summary(findings: list[dict]) -> list[tuple[str, int, str, list[str]]]:
    return [(f["path"], f["line"], f["code"], f["chain"]) for f in findings]


@pytest.fixture
def app(project: Project) -> Project:
    project.write("pyproject.toml", "[tool.soni-audit]\n")
    project.write("app/__init__.py", "from .config import load_config as load_config\n")
    project.write(
        "app/config.py",
        """\
        from .io import read_text

        def load_config(path="settings.toml"):
            return parse(read_text(path))

        def parse(text):
            return dict(line.split("=", 1) for line in text.splitlines())
        """,
    )
    project.write(
        "app/io.py",
        """\
        def read_text(path):
            with open(path) as handle:
                return handle.read()
        """,
    )
    return project


def test_chain_of_three_calls_across_modules_and_a_reexport(app: Project) -> None:
    app.write(
        "app/handlers.py",
        """\
        import app

        async def startup():
            return app.load_config()
        """,
    )
    (finding,) = [f for f in _findings(app) if f["code"] == "BLK103"]
    assert (finding["path"], finding["line"], finding["column"]) == ("app/handlers.py", 4, 12)
    assert finding["chain"] == ["startup", "load_config", "read_text", "open"]
    assert finding["function"] == "startup"
    assert (
        "startup -> load_config -> read_text -> open (`open` at app/io.py:2 " in finding["message"]
    )
    # every hop of the chain is a location of its own
    assert [(r["path"], r["line"], r["column"], r["message"]) for r in finding["related"]] == [
        ("app/config.py", 4, 18, "`load_config` calls `read_text`"),
        ("app/io.py", 2, 10, "`read_text` calls `open`, which opens a file with blocking I/O"),
    ]


def test_related_locations_follow_the_working_directory_and_reach_sarif(app: Project) -> None:
    app.write(
        "app/handlers.py", "import app\n\nasync def startup():\n    return app.load_config()\n"
    )
    inside = Project(app.root / "app")
    (finding,) = list(json.loads(inside.run("check", "--format", "json", ".").stdout)["findings"])
    assert finding["path"] == "handlers.py"
    assert [r["path"] for r in finding["related"]] == ["config.py", "io.py"]
    again = json.loads(inside.run("check", "--format", "json", ".").stdout)["findings"]
    assert again == [finding]  # served from the cache, hops included
    sarif = json.loads(app.run("check", "--format", "sarif").stdout)
    (result,) = sarif["runs"][0]["results"]
    related = result["relatedLocations"]
    assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in related] == [
        "app/config.py",
        "app/io.py",
    ]
    assert related[1]["physicalLocation"]["region"]["startLine"] == 2
    assert related[0]["message"]["text"] == "`load_config` calls `read_text`"


def test_relative_aliased_and_src_layout_imports(project: Project) -> None:
    project.write("src/pkg/__init__.py", "")
    project.write("src/pkg/util/__init__.py", "")
    project.write(
        "src/pkg/util/proc.py",
        "import subprocess\n\ndef run(cmd):\n    return subprocess.run(cmd)\n",
    )
    project.write(
        "src/pkg/api/__init__.py",
        "",
    )
    project.write(
        "src/pkg/api/views.py",
        """\
        from ..util.proc import run as execute
        from ..util import proc

        async def deploy(cmd):
            execute(cmd)
            proc.run(cmd)
        """,
    )
    assert _summary(_findings(project)) == [
        ("src/pkg/api/views.py", 5, "BLK103", ["deploy", "run", "subprocess.run"]),
        ("src/pkg/api/views.py", 6, "BLK103", ["deploy", "run", "subprocess.run"]),
    ]


def test_methods_of_project_classes_through_annotations_self_and_bases(project: Project) -> None:
    project.write(
        "store/base.py",
        """\
        import sqlite3

        class Repository:
            def __init__(self, path):
                self.conn = sqlite3.connect(path)

            def commit(self):
                self.conn.commit()
        """,
    )
    project.write(
        "store/users.py",
        """\
        from store.base import Repository

        class Users(Repository):
            def add(self, name):
                self.commit()
        """,
    )
    project.write(
        "service.py",
        """\
        from store.users import Users

        class Service:
            def __init__(self, users: Users):
                self.users = users

            async def register(self, name):
                self.users.add(name)

        async def direct(users: Users):
            users.commit()
        """,
    )
    assert _summary(_findings(project)) == [
        (
            "service.py",
            8,
            "BLK103",
            ["Service.register", "Users.add", "Repository.commit", "sqlite3.Connection.commit"],
        ),
        ("service.py", 11, "BLK103", ["direct", "Repository.commit", "sqlite3.Connection.commit"]),
    ]


def test_offloaded_sync_only_and_async_callees_stay_silent(app: Project) -> None:
    app.write(
        "app/handlers.py",
        """\
        import asyncio, functools
        from app.config import load_config
        from app.io import read_text

        async def offloaded(loop):
            await asyncio.to_thread(load_config)
            await loop.run_in_executor(None, functools.partial(read_text, "x"))

        def cli():
            return load_config()

        async def read_async(path):
            return open(path).read()

        async def caller():
            return await read_async("x")
        """,
    )
    assert [(f["line"], f["code"]) for f in _findings(app)] == [(13, "BLK100"), (13, "BLK101")]


def test_recursion_and_cycles_across_modules(project: Project) -> None:
    project.write("a.py", "import b\n\ndef ping(n):\n    return b.pong(n - 1)\n")
    project.write(
        "b.py",
        "import a, time\n\ndef pong(n):\n    time.sleep(0.1)\n    if n:\n        a.ping(n)\n",
    )
    project.write("c.py", "import a\n\nasync def serve(n):\n    a.ping(n)\n")
    assert _summary(_findings(project)) == [
        ("c.py", 4, "BLK103", ["serve", "ping", "pong", "time.sleep"])
    ]


def test_a_chain_through_a_condition_is_reported_only_when_blk105_is_selected(
    project: Project,
) -> None:
    project.write("a.py", "import b\n\ndef ping(n):\n    return b.pong(n - 1) if n else None\n")
    project.write(
        "b.py", "import a, time\n\ndef pong(n):\n    time.sleep(0.1)\n    return a.ping(n)\n"
    )
    project.write("c.py", "import a\n\nasync def serve(n):\n    a.ping(n)\n")
    assert _findings(project) == []
    assert _findings(project, "--select", "ALL") == []
    (finding,) = _findings(project, "--extend-select", "BLK105")
    assert (finding["path"], finding["line"], finding["code"]) == ("c.py", 4, "BLK105")
    assert finding["chain"] == ["serve", "ping", "pong", "time.sleep"]
    assert "may block the event loop" in finding["message"]
    assert (
        "only on some paths: in `ping`, in the branch of a conditional expression taken when"
        " `n` is true"
        in (finding["message"])
    )


def test_nonblocking_configuration_silences_every_caller(app: Project) -> None:
    app.write(
        "app/handlers.py",
        "from app.config import load_config\n\nasync def a():\n    load_config()\n\nasync def b():\n    load_config()\n",
    )
    assert len(_findings(app)) == 2
    app.write("pyproject.toml", '[tool.soni-audit]\nnonblocking = ["app.io.read_text"]\n')
    assert _findings(app) == []


def test_configured_blocking_callables_are_leaves_too(project: Project) -> None:
    project.write(
        "pyproject.toml",
        '[tool.soni-audit.blocking-callables]\n"legacy.fetch" = "`await legacy.afetch()`"\n',
    )
    project.write(
        "app.py",
        "from legacy import fetch\n\ndef load():\n    return fetch()\n\nasync def handler():\n    return load()\n",
    )
    assert _summary(_findings(project)) == [
        ("app.py", 7, "BLK103", ["handler", "load", "legacy.fetch"])
    ]


def test_dialogue_reset_state_falls_back_to_a_sync_delete(project: Project) -> None:
    project.write(
        "soni_like/runtime.py",
        """\
        class RuntimeLoop:
            def __init__(self, checkpointer):
                self.checkpointer = checkpointer

            async def reset_state(self, user_id: str) -> None:
                config = {"configurable": {"thread_id": user_id}}
                if hasattr(self.checkpointer, "adelete"):
                    await self.checkpointer.adelete(config)
                else:
                    self.checkpointer.delete(config)
        """,
    )
    (finding,) = _findings(project)
    assert (finding["line"], finding["code"], finding["function"]) == (
        10,
        "BLK102",
        "RuntimeLoop.reset_state",
    )
    assert "`self.checkpointer.delete()` is the sync twin of `adelete`" in finding["message"]


def test_sync_twin_on_a_project_class_in_another_module(project: Project) -> None:
    project.write(
        "store.py",
        "import os\n\nclass Store:\n    def delete(self, key):\n        os.remove(key)\n"
        "    async def adelete(self, key): ...\n",
    )
    project.write(
        "app.py",
        "from store import Store\n\nasync def forget(store: Store):\n    store.delete('k')\n    await store.adelete('k')\n",
    )
    (finding,) = _findings(project)
    assert (finding["line"], finding["code"]) == (4, "BLK102")
    assert "use `await store.adelete(...)`" in finding["message"]


def test_a_sync_twin_that_blocks_nothing_is_not_reported(project: Project) -> None:
    project.write(
        "store.py",
        "class MemoryStore:\n    def __init__(self):\n        self.rows = {}\n"
        "    def delete(self, key):\n        self.rows.pop(key, None)\n"
        "    async def adelete(self, key):\n        self.delete(key)\n",
    )
    project.write(
        "app.py",
        "from store import MemoryStore\n\nasync def forget(store: MemoryStore):\n"
        "    store.delete('k')\n",
    )
    assert _findings(project) == []


def test_cached_run_reports_the_same_chains(app: Project) -> None:
    app.write(
        "app/handlers.py", "import app\n\nasync def startup():\n    return app.load_config()\n"
    )
    first = _findings(app)
    second = _findings(app)
    assert first == second
    assert first[0]["chain"] == ["startup", "load_config", "read_text", "open"]


def test_edit_in_a_leaf_module_updates_callers(app: Project) -> None:
    app.write(
        "app/handlers.py",
        "from app import load_config\n\nasync def startup():\n    return load_config()\n",
    )
    assert len(_findings(app)) == 1
    app.write("app/io.py", "def read_text(path):\n    return path\n")
    assert _findings(app) == []


def test_checking_one_file_still_sees_the_whole_project(app: Project) -> None:
    app.write(
        "app/handlers.py",
        "from app import load_config\n\nasync def startup():\n    return load_config()\n",
    )
    assert len(_findings(app)) == 1  # a full run fills the cache
    only = _findings(app, "app/handlers.py")  # what pre-commit does with one staged file
    assert [(f["path"], f["code"], f["chain"]) for f in only] == [
        ("app/handlers.py", "BLK103", ["startup", "load_config", "read_text", "open"])
    ]
    assert _findings(app, "app/io.py") == []


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_checking_one_edited_file_builds_the_graph_from_the_others(
    app: Project, cache: bool
) -> None:
    """A commit hook checks the staged file only: the project's other files must still
    complete the call graph, whether their facts are cached or not."""
    options = () if cache else ("--no-cache",)
    app.write("app/handlers.py", "async def startup():\n    return 1\n")
    assert _findings(app, *options) == []  # the full run fills the cache
    app.write(
        "app/handlers.py",
        "from app import load_config\n\nasync def startup():\n    return load_config()\n",
    )
    only = _findings(app, "app/handlers.py", *options)
    assert [(f["path"], f["code"], f["chain"]) for f in only] == [
        ("app/handlers.py", "BLK103", ["startup", "load_config", "read_text", "open"])
    ]
    assert len(_findings(app, *options)) == 1  # and a full run after it agrees
