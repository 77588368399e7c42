"""The workspace: cache reuse and invalidation, and the process pool agreeing with serial
runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from audit.engine.config import Config
from audit.engine.workspace import Workspace

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def _check(root: Path, *, jobs: int = 1, cache: bool = True, config: Config | None = None):
    config = config or Config(root=root)
    return Workspace(config, use_cache=cache, jobs=jobs).check(
        [root], selection=config.selection(), cwd=root
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for index in range(12):
        body = BLOCKING if index % 3 == 0 else f"VALUE = {index}\n"
        (tmp_path / f"module_{index:02}.py").write_text(body, encoding="utf-8")
    return tmp_path


def test_second_run_is_served_from_the_cache(files: Path) -> None:
    first = _check(files)
    second = _check(files)
    assert first.cached == 0
    assert second.cached == 12
    assert second.findings == first.findings
    assert (files / ".soni-audit-cache" / "CACHEDIR.TAG").is_file()
    assert (files / ".soni-audit-cache" / ".gitignore").read_text() == "*\n"


def test_changed_file_is_analysed_again(files: Path) -> None:
    _check(files)
    (files / "module_01.py").write_text(BLOCKING, encoding="utf-8")
    result = _check(files)
    assert result.cached == 11
    assert sorted({f.path for f in result.findings}) == [
        "module_00.py",
        "module_01.py",
        "module_03.py",
        "module_06.py",
        "module_09.py",
    ]


def test_new_configuration_does_not_reuse_results(files: Path) -> None:
    _check(files)
    configured = Config(root=files, blocking_callables={"mylib.fetch": ""})
    assert _check(files, config=configured).cached == 0


def test_corrupt_cache_is_ignored(files: Path) -> None:
    _check(files)
    for cache_file in (files / ".soni-audit-cache").rglob("*.json"):
        cache_file.write_text("{not json", encoding="utf-8")
    result = _check(files)
    assert result.cached == 0
    assert len(result.findings) == 4
    assert _check(files).cached == 12


def test_no_cache_writes_nothing(files: Path) -> None:
    _check(files, cache=False)
    assert not (files / ".soni-audit-cache").exists()


def test_deleted_files_leave_the_cache(files: Path) -> None:
    _check(files)
    (files / "module_00.py").unlink()
    result = _check(files)
    assert result.files == 11
    assert "module_00.py" not in {f.path for f in result.findings}


def test_pool_gives_the_same_results_as_a_serial_run(files: Path) -> None:
    (files / "broken.py").write_text("def f(:\n", encoding="utf-8")
    serial = _check(files, jobs=1, cache=False)
    parallel = _check(files, jobs=2, cache=False)
    assert parallel.findings == serial.findings
    assert [f.code for f in parallel.findings].count("AUD900") == 1


def test_unreadable_file_is_reported(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "module_02.py":
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = _check(files, cache=False)
    assert result.files == 12
    (problem,) = [f for f in result.findings if f.path == "module_02.py"]
    assert (problem.code, problem.message) == ("AUD900", "cannot read file: Permission denied")


def test_function_names_are_qualified(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """
            import time

            class Service:
                async def handle(self):
                    def helper():
                        pass
                    time.sleep(1)

            def outer():
                async def inner():
                    time.sleep(1)
            """
        ),
        encoding="utf-8",
    )
    assert [f.function for f in _check(tmp_path).findings] == [
        "Service.handle",
        "outer.<locals>.inner",
    ]
