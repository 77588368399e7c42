"""`check --dependencies` against real distributions: small wheels built here from the
sources in tests/fixtures/dependencies, installed with pip (no index, no network) into a
virtual environment the test creates, and a project checked against it with `--python`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audit.dependencies.environment import choose_python
from audit.lsp.client import LspClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dependencies"

APP = """\
import asyncio

from blockpkg import Client, Session, Store, TlsClient, maybe_load


async def startup():
    return Client()


async def rows(store: Store):
    return store.fetch()


async def offloaded():
    return await asyncio.to_thread(Client)


async def optional():
    return maybe_load()


def sync_code():
    return Client()


async def secure(host):
    return TlsClient(host)


async def given(path):
    return maybe_load(path)


async def verified():
    return Session(timeout=5)


async def unverified():
    return Session(verify=False)


async def bundle():
    return Session(verify="ca.pem")
"""

BROKEN = """\
import brokenpkg


async def go():
    return brokenpkg.make()
"""


def build_wheel(source: Path, name: str, version: str, out: Path) -> Path:
    """A pure-Python wheel of the package directory `source/<name>`."""
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files: dict[str, bytes] = {
        path.relative_to(source).as_posix(): path.read_bytes()
        for path in sorted((source / name).rglob("*.py"))
    }
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/top_level.txt"] = f"{name}\n".encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


@dataclass
class Env:
    root: Path
    wheels: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def install(self, name: str, version: str) -> None:
        wheel = build_wheel(FIXTURES / name, name, version, self.wheels)
        subprocess.run(
            [str(self.python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
            check=True,
            capture_output=True,
            timeout=300,
        )


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Env:
    base = tmp_path_factory.mktemp("venv")
    env = Env(base / "env", base / "wheels")
    env.wheels.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(env.root)], check=True, timeout=300)
    env.install("blockpkg", "1.0")
    env.install("brokenpkg", "1.0")
    return env


@dataclass
class Checked:
    code: int
    findings: list[dict[str, Any]]
    stderr: str


class Runner:
    def __init__(self, root: Path, cache: Path, python: Path) -> None:
        self.root, self.cache, self.python = root, cache, python

    def check(self, *args: str, python: bool = True) -> Checked:
        environ = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        environ["XDG_CACHE_HOME"] = str(self.cache)
        command = [sys.executable, "-m", "audit", "check", "--dependencies", "--format", "json"]
        if python:
            command += ["--python", str(self.python)]
        done = subprocess.run(
            [*command, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=environ,
        )
        assert done.returncode in (0, 1), done.stderr
        return Checked(done.returncode, json.loads(done.stdout)["findings"], done.stderr)

    def text(self, *args: str) -> str:
        environ = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        environ["XDG_CACHE_HOME"] = str(self.cache)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "audit",
                "check",
                "--dependencies",
                "--python",
                str(self.python),
                *args,
            ],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=environ,
        )
        return done.stdout

    def touch(self) -> None:
        """Change the project so the project pass runs again (its findings are cached)."""
        app = self.root / "app.py"
        app.write_text(app.read_text(encoding="utf-8") + "\n", encoding="utf-8")


@pytest.fixture
def runner(tmp_path: Path, venv: Env) -> Runner:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(APP, encoding="utf-8")
    return Runner(project, tmp_path / "cache", venv.python)


def _by_line(findings: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {finding["line"]: finding for finding in findings if finding["path"] == "app.py"}


def test_constructor_and_deep_method_are_reported_with_their_chains(runner: Runner) -> None:
    found = _by_line(runner.check("app.py").findings)
    assert sorted(found) == [7, 11, 27, 35, 43]
    constructor, method = found[7], found[11]
    assert constructor["code"] == method["code"] == "BLK106"
    assert "`Client()` blocks the event loop inside `blockpkg 1.0`" in constructor["message"]
    assert constructor["chain"] == [
        "startup",
        "blockpkg.client.Client.__init__",
        "blockpkg.client._read",
        "open",
    ]
    assert "blockpkg/client.py:8" in constructor["message"]
    related = [(Path(r["path"]).name, r["line"]) for r in constructor["related"]]
    assert related == [("client.py", 14), ("client.py", 8)]
    assert all(Path(r["path"]).is_absolute() or ".." in r["path"] for r in constructor["related"])
    # two modules below the method the project calls
    assert method["chain"] == [
        "rows",
        "blockpkg.client.Store.fetch",
        "blockpkg.storage.rows.load_rows",
        "blockpkg.storage.disk.read_all",
        "open",
    ]
    assert "blockpkg/storage/disk.py:2" in method["message"]
    # a constructor whose blocking is in its base class's, reached through super()
    assert found[27]["chain"] == [
        "secure",
        "blockpkg.client.TlsClient.__init__",
        "blockpkg.base.BaseClient.__init__",
        "ssl.create_default_context",
    ]


def test_offloaded_conditional_and_sync_calls_are_silent_by_default(runner: Runner) -> None:
    lines = _by_line(runner.check("app.py").findings)
    assert 15 not in lines  # asyncio.to_thread(Client)
    assert 19 not in lines  # maybe_load() opens a file only when given a path
    assert 23 not in lines  # sync code may block
    assert 31 not in lines  # maybe_load(path): only if `path` is not None
    # the conditional chain is BLK105's to report, when a project opts in
    opted = _by_line(runner.check("app.py", "--extend-select", "BLK105").findings)
    assert opted[31]["code"] == "BLK105"
    assert "only on some paths" in opted[31]["message"]
    assert opted[31]["chain"] == ["given", "blockpkg.lazy.maybe_load", "open"]
    # maybe_load() leaves `path` at None: the branch that opens a file cannot run
    assert 19 not in opted


def test_a_call_is_judged_with_its_arguments_through_kwargs_and_super(runner: Runner) -> None:
    """`Session()` leaves `verify` at `True` (through `**options` and a
    `super(owner, self)` whose class is an argument), and that branch loads the CA
    bundle; `verify=False` takes no blocking branch, even for BLK105; a string takes
    another blocking one."""
    found = _by_line(runner.check("app.py", "--extend-select", "BLK105").findings)
    verified = found[35]
    assert verified["code"] == "BLK106"
    assert verified["chain"] == [
        "verified",
        "blockpkg.session.Session.__init__",
        "blockpkg._setup.setup",
        "blockpkg.transport.Transport.__init__",
        "blockpkg.tls.context",
        "ssl.create_default_context",
    ]
    assert "blockpkg/tls.py:8" in verified["message"]
    assert 39 not in found
    assert found[43]["code"] == "BLK106"
    assert "blockpkg/tls.py:10" in found[43]["message"]


def test_without_dependencies_nothing_is_followed(runner: Runner) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environ["XDG_CACHE_HOME"] = str(runner.cache)
    done = subprocess.run(
        [sys.executable, "-m", "audit", "check", "--python", str(runner.python), "app.py"],
        cwd=runner.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=environ,
    )
    assert done.returncode == 0, done.stdout
    assert "dependencies" not in done.stdout


def test_summary_line_names_the_environment(runner: Runner) -> None:
    text = runner.text("app.py")
    summary = (
        text.splitlines()[-2] if text.splitlines()[-1].startswith("[*]") else text.splitlines()[-1]
    )
    assert f"dependencies read from {runner.python} (--python; Python" in summary
    environment = json.loads(runner.text("--format", "json", "app.py"))["summary"]["environment"]
    assert environment.startswith(f"dependencies read from {runner.python}")


def _library_document(cache: Path, name: str) -> Path:
    return cache / "soni-audit" / "dependencies" / "libraries" / f"{name}.json"


def test_cache_is_reused_then_invalidated_by_a_new_version(runner: Runner, venv: Env) -> None:
    assert 11 in _by_line(runner.check("app.py").findings)
    document = _library_document(runner.cache, "blockpkg-1.0")
    data = json.loads(document.read_text(encoding="utf-8"))
    disk = data["modules"]["blockpkg/storage/disk.py"]
    assert disk["module"] == "blockpkg.storage.disk"
    # The cached summary is what a second run reads: without its blocking call, the chain
    # through it is gone, though the file on disk still opens one.
    for function in disk["facts"]["functions"]:
        function["leaves"] = []
    document.write_text(json.dumps(data), encoding="utf-8")
    runner.touch()
    assert 11 not in _by_line(runner.check("app.py").findings)
    # A document written by another engine build is ignored.
    data["engine"] = "another-build"
    document.write_text(json.dumps(data), encoding="utf-8")
    runner.touch()
    assert 11 in _by_line(runner.check("app.py").findings)
    # A new version of the distribution is analysed afresh.
    data = json.loads(document.read_text(encoding="utf-8"))
    for function in data["modules"]["blockpkg/storage/disk.py"]["facts"]["functions"]:
        function["leaves"] = []
    document.write_text(json.dumps(data), encoding="utf-8")
    venv.install("blockpkg", "2.0")
    try:
        found = _by_line(runner.check("app.py").findings)
        assert "`blockpkg 2.0`" in found[11]["message"]
        assert _library_document(runner.cache, "blockpkg-2.0").is_file()
    finally:
        venv.install("blockpkg", "1.0")


def test_the_unsafe_fix_moves_the_call_to_a_thread(runner: Runner) -> None:
    runner.text("--fix", "--unsafe-fixes", "app.py")
    fixed = (runner.root / "app.py").read_text(encoding="utf-8")
    assert "return await asyncio.to_thread(Client)\n" in fixed
    assert "return await asyncio.to_thread(store.fetch)\n" in fixed
    assert "return await asyncio.to_thread(TlsClient, host)\n" in fixed
    assert not [f for f in runner.check("app.py").findings if f["code"] == "BLK106"]


def test_no_cache_keeps_summaries_in_memory(runner: Runner) -> None:
    assert 7 in _by_line(runner.check("app.py", "--no-cache").findings)
    assert not (runner.cache / "soni-audit").exists()


def test_unwritable_cache_degrades_to_memory_with_one_warning(runner: Runner) -> None:
    runner.cache.mkdir()
    (runner.cache / "soni-audit").write_text("a file where the cache directory should be")
    checked = runner.check("app.py")
    assert 7 in _by_line(checked.findings)
    warnings = [line for line in checked.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, checked.stderr
    assert "kept in memory" in warnings[0]


def test_a_distribution_that_does_not_parse_is_named_once_and_the_run_goes_on(
    runner: Runner,
) -> None:
    (runner.root / "broken_use.py").write_text(BROKEN, encoding="utf-8")
    checked = runner.check("app.py", "broken_use.py")
    problems = [f for f in checked.findings if f["code"] == "AUD900"]
    assert len(problems) == 1
    assert problems[0]["path"] == "broken_use.py"
    assert problems[0]["line"] == 1
    assert "`brokenpkg 1.0`" in problems[0]["message"]
    assert "brokenpkg/core.py:1" in problems[0]["message"]
    assert 7 in _by_line(checked.findings)  # the other library is still followed


def test_the_environment_is_chosen_in_the_documented_order(tmp_path: Path, venv: Env) -> None:
    config_dir = tmp_path / "project"
    (config_dir / ".venv" / "bin").mkdir(parents=True)
    (config_dir / ".venv" / "bin" / "python").write_text("")
    assert choose_python(str(venv.python), config_dir, {"VIRTUAL_ENV": "/x"}) == (
        venv.python,
        "--python",
    )
    assert choose_python(None, config_dir, {"VIRTUAL_ENV": str(venv.root)}) == (
        venv.python,
        "VIRTUAL_ENV",
    )
    assert choose_python(None, config_dir, {}) == (
        config_dir / ".venv" / "bin" / "python",
        ".venv beside the configuration",
    )
    assert choose_python(None, None, {}) == (
        Path(sys.executable),
        "the interpreter running soni-audit",
    )


def test_configuration_turns_dependencies_on(runner: Runner, venv: Env) -> None:
    (runner.root / "pyproject.toml").write_text(
        f'[tool.soni-audit]\ndependencies = true\npython = "{venv.python}"\n', encoding="utf-8"
    )
    environ = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environ["XDG_CACHE_HOME"] = str(runner.cache)
    done = subprocess.run(
        [sys.executable, "-m", "audit", "check", "app.py"],
        cwd=runner.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=environ,
    )
    assert done.returncode == 1
    assert "app.py:7:12: BLK106" in done.stdout


def test_a_rule_that_reports_the_same_call_takes_precedence(runner: Runner, venv: Env) -> None:
    (runner.root / "pyproject.toml").write_text(
        '[tool.soni-audit.blocking-callables]\n"blockpkg.storage.disk.read_all" = ""\n',
        encoding="utf-8",
    )
    (runner.root / "direct.py").write_text(
        "from blockpkg.storage.disk import read_all\n\n\n"
        "async def load():\n    return read_all('rows')\n",
        encoding="utf-8",
    )
    at_call = [f["code"] for f in runner.check("direct.py").findings if f["line"] == 5]
    assert at_call == ["BLK104"]
    disabled = runner.check("direct.py", "--ignore", "BLK104").findings
    assert [f["code"] for f in disabled if f["line"] == 5] == ["BLK106"]


def test_a_missing_interpreter_is_a_usage_error(runner: Runner, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "audit",
            "check",
            "--dependencies",
            "--python",
            str(tmp_path / "nope"),
        ],
        cwd=runner.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2
    assert "no interpreter at" in done.stderr


def test_the_language_server_reports_into_the_library(runner: Runner, venv: Env) -> None:
    """An editor gets BLK106 with each hop in the library's files as related information."""
    (runner.root / "pyproject.toml").write_text(
        f'[tool.soni-audit]\ndependencies = true\npython = "{venv.python}"\n', encoding="utf-8"
    )
    environ = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environ["XDG_CACHE_HOME"] = str(runner.cache)
    server = LspClient([sys.executable, "-m", "audit", "server"], cwd=runner.root, env=environ)
    try:
        server.initialize([runner.root], {})
        app = runner.root / "app.py"
        uri = server.open(app, app.read_text(encoding="utf-8"))
        found = [
            d for d in server.diagnostics(uri, version=1, timeout=120) if d["code"] == "BLK106"
        ]
        server.close()
    finally:
        server.kill()
    constructor = next(d for d in found if d["range"]["start"]["line"] == 6)
    hops = [info["location"]["uri"] for info in constructor["relatedInformation"]]
    library = venv.root.resolve().as_uri()
    assert len(hops) == 2
    assert all(hop.startswith(library) for hop in hops)
    assert all(hop.endswith("/blockpkg/client.py") for hop in hops)
