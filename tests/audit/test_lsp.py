"""`soni-audit server`, started as a real subprocess and spoken to over stdio (JSON-RPC
with Content-Length framing, as an editor does)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit.lsp.client import LspClient, ServerError
from audit.lsp.engine import Project as LspProject
from audit.lsp.engine import find_config

BLOCKING = textwrap.dedent(
    """\
    import time


    async def handler():
        time.sleep(1)
        return 1
    """
)
HELPER_PURE = "def load_config(path):\n    return path.upper()\n"
HELPER_BLOCKING = (
    "def load_config(path):\n    with open(path) as stream:\n        return stream.read()\n"
)
CALLER = textwrap.dedent(
    """\
    from pkg.helpers import load_config


    async def handler(path):
        return load_config(path)
    """
)


# What an editor such as VS Code declares, as far as these tests need.
EDITOR = {
    "textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}},
    "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}},
}


@contextlib.contextmanager
def _server(tmp_path: Path) -> Iterator[LspClient]:
    """`soni-audit server` in a subprocess, killed after the test if still running."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "user-cache")}
    server = LspClient([sys.executable, "-m", "audit", "server"], cwd=tmp_path, env=env)
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.soni-audit]\nselect = ['ALL']\n")
    (root / "pkg" / "__init__.py").write_text("")
    return root


@pytest.fixture
def client(tmp_path: Path, project: Path) -> Iterator[LspClient]:
    with _server(tmp_path) as server:
        server.initialize([project], EDITOR)
        yield server


def _codes(diagnostics: list[dict[str, Any]]) -> list[str]:
    return sorted(d["code"] for d in diagnostics)


def _diagnostics_until(client: LspClient, uri: str, wanted: Any) -> list[dict[str, Any]]:
    """Diagnostics published for `uri` until `wanted(diagnostics)` holds."""
    while not wanted(diagnostics := client.diagnostics(uri)):
        pass
    return diagnostics


def _apply(text: str, edits: list[dict[str, Any]]) -> str:
    """The text with LSP edits made (ASCII text: UTF-16 units are characters)."""
    lines = text.split("\n")
    starts = [sum(len(line) + 1 for line in lines[:n]) for n in range(len(lines) + 1)]

    def offset(position: dict[str, int]) -> int:
        return min(starts[position["line"]] + position["character"], len(text))

    placed = sorted(
        ((offset(e["range"]["start"]), offset(e["range"]["end"]), e["newText"]) for e in edits),
        key=lambda edit: edit[:2],
        reverse=True,
    )
    for start, end, content in placed:
        text = text[:start] + content + text[end:]
    return text


def test_initialize_announces_what_the_server_does(tmp_path: Path, project: Path) -> None:
    with _server(tmp_path) as server:
        result = server.initialize([project], {"general": {"positionEncodings": ["utf-32"]}})
        capabilities = result["capabilities"]
        assert result["serverInfo"]["name"] == "soni-audit"
        assert capabilities["positionEncoding"] == "utf-32"
        assert capabilities["hoverProvider"] is True
        assert capabilities["codeActionProvider"]["codeActionKinds"] == [
            "quickfix",
            "source.fixAll.soni-audit",
        ]
        assert capabilities["diagnosticProvider"]["interFileDependencies"] is True
        assert capabilities["textDocumentSync"]["save"] == {"includeText": False}
        assert server.close() == 0


def test_blocking_call_is_reported_and_its_fix_removes_it(client: LspClient, project: Path) -> None:
    path = project / "pkg" / "app.py"
    path.write_text(BLOCKING)
    uri = client.open(path, BLOCKING)
    (found,) = client.diagnostics(uri)
    assert found["code"] == "BLK100"
    assert found["source"] == "soni-audit"
    assert found["range"] == {
        "start": {"line": 4, "character": 4},
        "end": {"line": 4, "character": 17},
    }
    page = Path(found["codeDescription"]["href"].removeprefix("file://"))
    assert page.name == "BLK100.md"
    assert "# BLK100" in page.read_text()

    context = {"diagnostics": [found]}
    actions = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": found["range"], "context": context},
    )
    titles = [action["title"] for action in actions]
    assert titles == [
        "BLK100: use `await asyncio.sleep(...)` (safe fix)",
        "BLK100: add `# noqa: BLK100` on this line",
        "soni-audit: fix all safe fixes in this file",
    ]
    fix = actions[0]
    assert fix["kind"] == "quickfix"
    assert fix["isPreferred"] is True
    fixed = _apply(BLOCKING, fix["edit"]["changes"][uri])
    assert "await asyncio.sleep(1)" in fixed
    assert fixed.startswith("import asyncio\n")
    client.change(uri, fixed, 2)
    assert client.diagnostics(uri, version=2) == []

    silenced = _apply(BLOCKING, actions[1]["edit"]["changes"][uri])
    assert "    time.sleep(1)  # noqa: BLK100\n" in silenced
    client.change(uri, silenced, 3)
    assert client.diagnostics(uri, version=3) == []


def test_fix_all_resolves_to_the_safe_fixes_of_the_file(client: LspClient, project: Path) -> None:
    text = BLOCKING + "\n\nasync def other():\n    time.sleep(2)\n"
    path = project / "pkg" / "app.py"
    path.write_text(text)
    uri = client.open(path, text)
    assert _codes(client.diagnostics(uri)) == ["BLK100", "BLK100"]
    start = {"line": 0, "character": 0}
    (action,) = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": {"start": start, "end": start},
            "context": {"diagnostics": [], "only": ["source.fixAll.soni-audit"]},
        },
    )
    assert "edit" not in action  # computed when resolved
    resolved = client.request("codeAction/resolve", action)
    (change,) = resolved["edit"]["documentChanges"]
    fixed = _apply(text, change["edits"])
    assert fixed.count("await asyncio.sleep(") == 2
    client.change(uri, fixed, 2)
    assert client.diagnostics(uri, version=2) == []


def test_hover_on_a_flagged_call_shows_the_rule(client: LspClient, project: Path) -> None:
    path = project / "pkg" / "app.py"
    path.write_text(BLOCKING)
    uri = client.open(path, BLOCKING)
    client.diagnostics(uri)
    hover = client.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 4, "character": 9}},
    )
    text = hover["contents"]["value"]
    assert hover["contents"]["kind"] == "markdown"
    assert text.startswith("**BLK100** `blocking-call-in-async-function`: ")
    assert "`time.sleep()` sleeps the event loop's thread" in text
    nothing = client.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}},
    )
    assert nothing is None


def test_a_saved_helper_refreshes_the_chains_of_open_buffers(
    client: LspClient, project: Path
) -> None:
    helper = project / "pkg" / "helpers.py"
    helper.write_text(HELPER_PURE)
    caller = project / "pkg" / "app.py"
    caller.write_text(CALLER)
    caller_uri = client.open(caller, CALLER)
    assert client.diagnostics(caller_uri) == []

    helper_uri = client.open(helper, HELPER_PURE)
    client.change(helper_uri, HELPER_BLOCKING, 2)
    helper.write_text(HELPER_BLOCKING)
    client.notify("textDocument/didSave", {"textDocument": {"uri": helper_uri}})
    (chain,) = _diagnostics_until(client, caller_uri, lambda found: found)
    assert chain["code"] == "BLK103"
    assert "handler -> load_config -> open" in chain["message"]
    (hop,) = chain["relatedInformation"]
    assert hop["location"]["uri"] == helper.as_uri()
    assert hop["location"]["range"]["start"] == {"line": 1, "character": 9}

    hover = client.request(
        "textDocument/hover",
        {"textDocument": {"uri": caller_uri}, "position": chain["range"]["start"]},
    )
    assert "Chain: `handler` → `load_config` → `open`" in hover["contents"]["value"]
    assert f"[pkg/helpers.py:2]({helper.as_uri()}#L2)" in hover["contents"]["value"]


def test_a_broken_buffer_keeps_the_last_good_diagnostics(client: LspClient, project: Path) -> None:
    path = project / "pkg" / "app.py"
    path.write_text(BLOCKING)
    uri = client.open(path, BLOCKING)
    assert _codes(client.diagnostics(uri)) == ["BLK100"]
    client.change(uri, BLOCKING + "\ndef broken(:\n", 2)
    found = client.diagnostics(uri, version=2)
    assert _codes(found) == ["AUD900", "BLK100"]
    (problem,) = [d for d in found if d["code"] == "AUD900"]
    assert problem["severity"] == 1
    assert problem["range"]["start"]["line"] == 7
    client.change(uri, "x = 1\n", 3)
    assert client.diagnostics(uri, version=3) == []


def test_a_buffer_the_parser_cannot_take_is_reported_and_the_server_goes_on(
    client: LspClient, project: Path
) -> None:
    # A buffer that declares `unicode_escape` and holds a lone surrogate decodes to text
    # libcst cannot take (it once crashed the analyser): it is reported on that file, with
    # the line, and the server keeps checking the others.
    crash = "# -*- coding: unicode_escape -*-\nx = 1  # \ud800\n"
    broken = project / "pkg" / "escape.py"
    broken.write_text("# -*- coding: unicode_escape -*-\nx = 1\n")
    broken_uri = client.open(broken, crash)
    (failure,) = client.diagnostics(broken_uri)
    assert failure["code"] == "AUD900"
    assert failure["message"] == "the decoded text holds a lone surrogate U+D800"
    assert failure["range"]["start"]["line"] == 1
    path = project / "pkg" / "app.py"
    path.write_text(BLOCKING)
    uri = client.open(path, BLOCKING)
    assert _codes(client.diagnostics(uri)) == ["BLK100"]
    assert client.process.poll() is None


def test_unknown_requests_get_method_not_found(client: LspClient) -> None:
    with pytest.raises(ServerError) as error:
        client.request("soni/frobnicate", {})
    assert error.value.code == -32601
    assert (
        client.request(
            "textDocument/hover",
            {
                "textDocument": {"uri": "file:///nowhere.py"},
                "position": {"line": 0, "character": 0},
            },
        )
        is None
    )


def test_shutdown_then_exit_ends_the_server_cleanly(client: LspClient) -> None:
    assert client.request("shutdown") is None
    client.notify("exit")
    assert client.wait() == 0


def test_closing_stdin_ends_the_server(client: LspClient) -> None:
    assert client.process.stdin is not None
    client.process.stdin.close()
    assert client.wait() is not None


def test_pyproject_changes_are_picked_up(client: LspClient, project: Path) -> None:
    config = project / "pyproject.toml"
    config.write_text("[tool.soni-audit]\nignore = ['BLK100']\n")
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 2}]}
    )
    path = project / "pkg" / "app.py"
    path.write_text(BLOCKING)
    uri = client.open(path, BLOCKING)
    assert client.diagnostics(uri) == []
    config.write_text("[tool.soni-audit]\nselect = ['ALL']\n")
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 2}]}
    )
    assert _codes(_diagnostics_until(client, uri, lambda found: found)) == ["BLK100"]

    config.write_text("[tool.soni-audit]\nselect = 'ALL'\n")  # invalid: keeps the last good
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 2}]}
    )
    shown = client.wait_for("window/showMessage")["params"]
    assert shown["type"] == 1
    assert f"{config}:2: [tool.soni-audit] select must be a list of strings" in shown["message"]
    assert _codes(client.diagnostics(uri)) == ["BLK100"]


def test_each_workspace_folder_has_its_own_configuration(tmp_path: Path) -> None:
    quiet, plain = tmp_path / "quiet", tmp_path / "plain"
    for folder in (quiet, plain):
        folder.mkdir()
        (folder / "app.py").write_text(BLOCKING)
    (quiet / "pyproject.toml").write_text("[tool.soni-audit]\nignore = ['BLK']\n")
    with _server(tmp_path) as server:
        server.initialize([quiet, plain])
        quiet_uri = server.open(quiet / "app.py", BLOCKING)
        plain_uri = server.open(plain / "app.py", BLOCKING)
        assert server.diagnostics(quiet_uri) == []
        assert _codes(server.diagnostics(plain_uri)) == ["BLK100"]
        assert server.close() == 0


def test_clients_that_pull_diagnostics_get_them_on_request(tmp_path: Path, project: Path) -> None:
    path = project / "pkg" / "app.py"
    path.write_text(BLOCKING)
    with _server(tmp_path) as server:
        server.initialize([project], {"textDocument": {"diagnostic": {}}})
        uri = server.open(path, BLOCKING)
        report = server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
        assert report["kind"] == "full"
        assert _codes(report["items"]) == ["BLK100"]
        again = server.request(
            "textDocument/diagnostic",
            {"textDocument": {"uri": uri}, "previousResultId": report["resultId"]},
        )
        assert again == {"kind": "unchanged", "resultId": report["resultId"]}
        assert server.close() == 0
        pushed = [
            m
            for m in list(server.notifications.queue)
            if m["method"] == "textDocument/publishDiagnostics"
        ]
        assert pushed == []


def test_without_the_lsp_extra_the_command_names_it() -> None:
    # pygls hidden from the import system, as in an install without the extra.
    program = (
        "import sys; sys.modules['pygls'] = None; from audit.cli import main; "
        "sys.exit(main(['server']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 2
    assert "pip install 'soni[lsp]'" in result.stderr
    assert json.dumps(result.stdout) == '""'


def test_checking_one_file_never_answers_for_another_over_the_same_files(project: Path) -> None:
    # The project pass's cached findings are those of the file checked: a check of the
    # helper, then of its caller over the very same files, must still find the caller's
    # chain (it once reused the helper's result, which kept only the helper's findings).
    helper = project / "pkg" / "helpers.py"
    helper.write_text(HELPER_BLOCKING)
    caller = project / "pkg" / "app.py"
    caller.write_text(CALLER)
    checked = LspProject.for_config(find_config(project), project)
    assert [f.code for f in checked.check(helper, HELPER_BLOCKING)] == []
    assert [f.code for f in checked.check(caller, CALLER)] == ["BLK103"]
