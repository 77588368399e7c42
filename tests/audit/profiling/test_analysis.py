"""The analysis on hand-made timelines: loop states, block cutting, attribution, sites,
trace and session parsing, the static join."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.core.findings import Finding
from audit.profiling.attribution import call_on_line, place_of, project_frame
from audit.profiling.chrometrace import read_trace
from audit.profiling.errors import ProfileError
from audit.profiling.findings import CONFIRMED, RUNTIME_ONLY, join
from audit.profiling.frames import Frame, ProjectFiles, Segment, module_name
from audit.profiling.loopstate import LoopClassifier, LoopState
from audit.profiling.pyinstrument_run import parse_frame
from audit.profiling.pyspy import Permission
from audit.profiling.sites import group_sites, percentile
from audit.profiling.stretches import find_blocks

ASYNCIO = "/usr/lib/python3.11/asyncio"
RUNNERS = Frame(f"{ASYNCIO}/runners.py", 118, "Runner.run")
UNTIL = Frame(f"{ASYNCIO}/base_events.py", 640, "BaseEventLoop.run_until_complete")
FOREVER = Frame(f"{ASYNCIO}/base_events.py", 607, "BaseEventLoop.run_forever")
ONCE = Frame(f"{ASYNCIO}/base_events.py", 1884, "BaseEventLoop._run_once")
SELECT = Frame("/usr/lib/python3.11/selectors.py", 468, "EpollSelector.select")
HANDLE = Frame(f"{ASYNCIO}/events.py", 80, "Handle._run")
UVLOOP_WRAPPER = Frame("/venv/lib/python3.11/site-packages/uvloop/__init__.py", 48, "wrapper")
BEAT = Frame("/x/audit/profiling/watchdog.py", 120, "LoopWatchdog._beat")
THREADING = "/usr/lib/python3.11/threading.py"
SPAWN = (
    Frame("/usr/lib/python3.11/concurrent/futures/thread.py", 176, "ThreadPoolExecutor.submit"),
    Frame(
        "/usr/lib/python3.11/concurrent/futures/thread.py",
        199,
        "ThreadPoolExecutor._adjust_thread_count",
    ),
    Frame(THREADING, 962, "Thread.start"),
    Frame(THREADING, 622, "Event.wait"),
    Frame(THREADING, 327, "Condition.wait"),
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    source = tmp_path / "app.py"
    source.write_text(
        "import time\n"
        "async def handler(conn):\n"
        "    time.sleep(0.02)\n"
        "    rows = conn.execute('select 1').fetchall()\n"
        "    return await helper()\n"
        "loop.run_until_complete(main())\n",
        encoding="utf-8",
    )
    return source


def _f(app: Path, line: int, function: str = "handler") -> Frame:
    return Frame(str(app), line, function)


def test_loop_states(app: Path) -> None:
    classify = LoopClassifier(ProjectFiles(app.parent)).read
    asyncio_base = (RUNNERS, UNTIL, FOREVER, ONCE)
    uvloop_entry = Frame(str(app), 6, "<module>")  # `loop.run_until_complete(...)`: C below
    table = [
        ((Frame(str(app), 1, "<module>"),), LoopState.OUTSIDE),
        ((*asyncio_base, SELECT), LoopState.IDLE),
        ((*asyncio_base, HANDLE, BEAT), LoopState.IDLE),  # the watchdog's own heartbeat
        ((*asyncio_base, HANDLE, _f(app, 3)), LoopState.BUSY),
        ((*asyncio_base, SELECT, Frame("<built-in>", 0, "epoll.poll")), LoopState.IDLE),
        ((uvloop_entry,), LoopState.IDLE),
        ((uvloop_entry, UVLOOP_WRAPPER, _f(app, 3)), LoopState.BUSY),
        # a thread pool adding a worker waits for the OS to schedule it: not the loop's work
        ((*asyncio_base, HANDLE, _f(app, 4), *SPAWN), LoopState.IDLE),
        ((*asyncio_base, HANDLE, _f(app, 4), *SPAWN[:2], _f(app, 3)), LoopState.BUSY),
        ((*asyncio_base, HANDLE, _f(app, 4), *SPAWN[:2]), LoopState.BUSY),  # submitting
    ]
    for stack, state in table:
        assert classify(stack).state is state, stack
    busy = classify((*asyncio_base, HANDLE, _f(app, 3)))
    assert busy.work == (_f(app, 3),)
    assert busy.key == (str(app), "handler")


def _timeline(app: Path, pieces: list[tuple[float, str | int]]) -> list[Segment]:
    """(duration ms, "idle" | line of handler) pieces back to back."""
    base = (RUNNERS, UNTIL, FOREVER, ONCE)
    clock, segments = 0.0, []
    for ms, what in pieces:
        stack = (*base, SELECT) if what == "idle" else (*base, HANDLE, _f(app, int(what)))
        segments.append(Segment("1:1", clock, clock + ms / 1000, stack))
        clock += ms / 1000
    return segments


def test_blocks_are_cut_at_idle_and_kept_across_line_changes(app: Path) -> None:
    segments = _timeline(
        app, [(5, "idle"), (12, 3), (0.3, 4), (8, 3), (5, "idle"), (3, 3), (5, "idle"), (20, 4)]
    )
    blocks = find_blocks(
        segments, LoopClassifier(ProjectFiles(app.parent)), threshold=0.01, source="test"
    )
    # one block of 20.3 ms (a sample at another line of the same function does not cut it),
    # the 3 ms stretch is below the threshold, the last block runs to the end of the trace
    assert [round(b.duration * 1000, 1) for b in blocks] == [20.3, 20.0]
    assert blocks[0].stack == (_f(app, 3),)  # the stack held longest
    assert round(blocks[0].start * 1000, 1) == 5.0


def test_sites_group_by_project_frame_with_statistics(app: Path) -> None:
    project = ProjectFiles(app.parent)
    segments = _timeline(app, [(1, "idle"), (10, 3), (1, "idle"), (30, 3), (1, "idle"), (15, 4)])
    sites = group_sites(
        find_blocks(segments, LoopClassifier(project), threshold=0.01, source="t"), project
    )
    first = sites[0]
    assert (first.place.frame.line, first.count) == (3, 2)
    assert round(first.total * 1000) == 40
    assert round(first.max * 1000) == 30
    assert first.place.call == "time.sleep"
    assert sites[1].place.call == "conn.execute"
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == 4.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0


@pytest.mark.parametrize(
    ("line", "call"),
    [
        ("time.sleep(0.02)", "time.sleep"),
        ("rows = conn.execute('select 1').fetchall()", "conn.execute"),
        ("return requests.get(url).json()", "requests.get"),
        ("await asyncio.sleep(1)", "asyncio.sleep"),
        ("if os.path.exists(p):", "os.path.exists"),
        ("x = 1", None),
    ],
)
def test_call_on_line(tmp_path: Path, line: str, call: str | None) -> None:
    source = tmp_path / f"s{abs(hash(line))}.py"
    source.write_text(line + "\n", encoding="utf-8")
    assert call_on_line(str(source), 1) == call


def test_place_charges_the_innermost_project_frame(app: Path) -> None:
    project = ProjectFiles(app.parent)
    library = Frame("/usr/lib/python3.11/pathlib.py", 1058, "Path.read_text")
    io = Frame("/usr/lib/python3.11/pathlib.py", 1044, "Path.open")
    place = place_of((_f(app, 5), library, io), project)
    assert place.frame == _f(app, 5)
    assert place.call == "pathlib.Path.read_text"
    assert place.leaf == io
    no_project = place_of((library, io), project)
    assert no_project.frame == io


@pytest.mark.parametrize(
    ("file", "module"),
    [
        ("/usr/lib/python3.11/site-packages/httpx/_client.py", "httpx._client"),
        ("/v/lib/python3.11/site-packages/uvloop/__init__.py", "uvloop"),
        ("/somewhere/else/tool.py", "tool"),
    ],
)
def test_module_name(file: str, module: str) -> None:
    assert module_name(file) == module


def test_project_files_leave_out_installed_packages(tmp_path: Path) -> None:
    project = ProjectFiles(tmp_path)
    assert Frame(str(tmp_path / "app" / "x.py"), 1, "f") in project
    assert Frame(str(tmp_path / ".venv" / "lib" / "x.py"), 1, "f") not in project
    assert Frame("/elsewhere/x.py", 1, "f") not in project
    assert Frame("<built-in>", 0, "sleep") not in project


def test_extra_roots_are_project_code_charged_before_the_library(tmp_path: Path) -> None:
    library, user = tmp_path / "lib", tmp_path / "config"
    project = ProjectFiles(library, extra_roots=(user,))
    caller = Frame(str(library / "actions.py"), 105, "run")
    action = Frame(str(user / "actions.py"), 8, "check_limits")
    assert action in project
    assert Frame(str(user / ".venv" / "x.py"), 1, "f") not in project
    assert Frame(str(tmp_path / "other" / "x.py"), 1, "f") not in project
    stack = (caller, action, Frame("/usr/lib/python3.11/json/decoder.py", 3, "decode"))
    assert project_frame(stack, project) == action
    assert place_of(stack, project).frame == action
    assert project_frame(stack, ProjectFiles(library)) == caller
    assert project.relative(caller.file) == "actions.py"
    assert project.relative(action.file) == action.file  # shown relative to `root` only


def test_chrometrace_replay(tmp_path: Path) -> None:
    def event(ph: str, name: str, ts: int, tid: int = 7) -> dict[str, object]:
        return {
            "ph": ph,
            "name": name,
            "ts": ts,
            "pid": 1,
            "tid": tid,
            "args": {"filename": f"/p/{name}.py", "line": 1},
        }

    trace = tmp_path / "trace.json"
    trace.write_text(
        json.dumps(
            [
                event("B", "main", 0),
                event("B", "a", 0),
                event("E", "a", 1000),
                event("B", "b", 1000),
                event("B", "main", 500, tid=8),
                event("E", "b", 4000),
                event("E", "main", 4000),
                event("E", "main", 900, tid=8),
            ]
        ),
        encoding="utf-8",
    )
    segments = read_trace(trace)
    shapes = sorted((s.thread, s.start, s.end, [f.function for f in s.stack]) for s in segments)
    assert shapes == [
        ("1:7", 0.0, 0.001, ["main", "a"]),
        ("1:7", 0.001, 0.004, ["main", "b"]),
        ("1:8", 0.0005, 0.0009, ["main"]),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "trace.json:1:2: not a py-spy chrometrace"),
        ('{"a": 1}', "expected a list of events"),
        ('[{"ph": "B"}]', "event 0 is not a py-spy trace event"),
        ('[{"ph": "E", "name": "f", "ts": 1, "pid": 1, "tid": 1}]', "not the innermost open frame"),
    ],
)
def test_bad_traces_are_named(tmp_path: Path, content: str, message: str) -> None:
    trace = tmp_path / "trace.json"
    trace.write_text(content, encoding="utf-8")
    with pytest.raises(ProfileError, match=message):
        read_trace(trace)


@pytest.mark.parametrize(
    ("identifier", "frame"),
    [
        ("sleep\x00<built-in>\x000", Frame("<built-in>", 0, "sleep")),
        (
            "select\x00/l/selectors.py\x00451\x01cEpollSelector\x01l468",
            Frame("/l/selectors.py", 468, "EpollSelector.select"),
        ),
        ("main\x00/w/app.py\x007\x01l8", Frame("/w/app.py", 8, "main")),
        ("main\x00app.py\x007\x01l9", Frame("/cwd/app.py", 9, "main")),
    ],
)
def test_pyinstrument_frame_identifiers(identifier: str, frame: Frame) -> None:
    assert parse_frame(identifier, Path("/cwd")) == frame


def test_join_with_static_findings(app: Path) -> None:
    project = ProjectFiles(app.parent)
    segments = _timeline(app, [(1, "idle"), (20, 3), (1, "idle"), (20, 4)])
    sites = group_sites(
        find_blocks(segments, LoopClassifier(project), threshold=0.01, source="t"), project
    )
    sleep = Finding("app.py", 3, 5, 3, 21, "BLK100", "blocking `time.sleep`", "handler")
    elsewhere = Finding("app.py", 9, 5, 9, 9, "BLK100", "blocking `open`", "other")
    joined, static_only = join(sites, [sleep, elsewhere], project)
    status = {j.site.place.frame.line: j.status for j in joined}
    assert status == {3: CONFIRMED, 4: RUNTIME_ONLY}
    assert static_only == (elsewhere,)


@pytest.mark.parametrize(
    ("capability", "scope", "attach", "allowed"),
    [
        (True, 3, True, True),
        (False, 0, True, True),
        (False, 1, False, True),  # py-spy starts the command itself: its own child
        (False, 1, True, False),
        (False, 2, False, False),
        (False, 3, False, False),
    ],
)
def test_ptrace_permission(
    monkeypatch: pytest.MonkeyPatch, capability: bool, scope: int, attach: bool, allowed: bool
) -> None:
    import audit.profiling.pyspy as pyspy

    monkeypatch.setattr(pyspy, "_capability", lambda number: capability)
    monkeypatch.setattr(pyspy, "_yama_scope", lambda: scope)
    problem = Permission.check(attach=attach).problem
    assert (problem is None) is allowed
    if problem is not None:
        assert f"ptrace_scope is {scope}" in problem
        assert "SYS_PTRACE" in problem
