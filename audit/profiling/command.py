"""`soni-audit profile`: take a run-time profile, find the loop blocks, write the report."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from audit.profiling import watchdog
from audit.profiling.blocks import Block
from audit.profiling.chrometrace import read_trace
from audit.profiling.errors import ProfileError
from audit.profiling.findings import Profile, join, static_blocking_findings
from audit.profiling.frames import ProjectFiles, Segment
from audit.profiling.loopstate import LoopClassifier
from audit.profiling.pyinstrument_run import read_session
from audit.profiling.pyspy import Permission, command_exists, record_command, run_pyspy
from audit.profiling.render import write_profile
from audit.profiling.sites import group_sites
from audit.profiling.stretches import find_blocks

TRACE, SESSION, HTML = "profile.trace.json", "profile.pyisession", "profile.pyinstrument.html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=int, default=1000, help="samples per second (py-spy)")
    parser.add_argument(
        "--threshold-ms", type=float, default=10.0, help="shortest block to report (ms)"
    )
    parser.add_argument("--out", type=Path, default=Path("reports"), help="directory to write")
    parser.add_argument(
        "--root", type=Path, help="the project whose frames are charged (default: .)"
    )
    parser.add_argument("--subprocesses", action="store_true", help="follow child processes")
    parser.add_argument("--pid", type=int, help="attach to a running process")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to record with --pid")
    parser.add_argument(
        "--pyinstrument",
        action="store_true",
        help="deep dive: run a Python COMMAND under pyinstrument (async_mode=disabled)",
    )
    parser.add_argument(
        "--from",
        dest="inputs",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="analyse recorded data instead: a py-spy chrometrace, a .pyisession, or a "
        "profile.json from the watchdog or the pytest plugin (repeatable, merged)",
    )
    parser.add_argument("--no-static", action="store_true", help="do not join static findings")
    parser.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when blocks were found"
    )
    parser.add_argument(
        "target", nargs=argparse.REMAINDER, metavar="COMMAND", help="-- COMMAND ..."
    )


def run(args: argparse.Namespace) -> int:
    command = tuple(args.target[1:] if args.target[:1] == ["--"] else args.target)
    root = (args.root or Path.cwd()).resolve()
    project = ProjectFiles(root, exclude=(watchdog.__file__,))
    classifier = LoopClassifier(project)
    threshold = args.threshold_ms / 1000
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    blocks: list[Block] = []
    sources: list[str] = []
    artifacts: list[str] = []
    if args.inputs:
        for path in args.inputs:
            found, source = _load(path, classifier, threshold)
            blocks += found
            sources.append(source)
    elif args.pyinstrument:
        segments = _pyinstrument(command, out, rate=args.rate)
        blocks = find_blocks(segments, classifier, threshold=threshold, source="pyinstrument")
        sources.append("pyinstrument")
        artifacts += [SESSION, HTML]
    else:
        trace = out / TRACE
        _pyspy(args, command, trace)
        blocks = find_blocks(read_trace(trace), classifier, threshold=threshold, source="py-spy")
        sources.append("py-spy")
        artifacts.append(TRACE)
    sites = group_sites(blocks, project)
    static = []
    if not args.no_static:
        files = sorted({Path(s.place.frame.file) for s in sites if s.place.frame in project})
        static = static_blocking_findings(root, files)
    joined, static_only = join(sites, static, project)
    profile = Profile(
        command=command or tuple(str(p) for p in args.inputs),
        sources=tuple(dict.fromkeys(sources)),
        threshold=threshold,
        project=project,
        sites=joined,
        static_only=static_only,
        static_checked=not args.no_static,
        artifacts=tuple(artifacts),
    )
    regenerate = shlex.join(["soni-audit", "profile", *_invocation(args), "--", *command])
    written = write_profile(profile, out, regenerate=regenerate)
    _summary(profile, written)
    return 1 if profile.sites and not args.exit_zero else 0


def _invocation(args: argparse.Namespace) -> list[str]:
    shown = [f"--threshold-ms={args.threshold_ms:g}", f"--out={args.out}"]
    if args.pyinstrument:
        shown.append("--pyinstrument")
    elif args.pid is not None:
        shown += [f"--pid={args.pid}", f"--duration={args.duration:g}"]
    else:
        shown.append(f"--rate={args.rate}")
    return shown


def _pyspy(args: argparse.Namespace, command: Sequence[str], trace: Path) -> None:
    attach = args.pid is not None
    if not attach:
        command_exists(command)
    problem = Permission.check(attach=attach).problem
    if problem is not None:
        raise ProfileError(problem)
    recorder = record_command(
        command,
        trace,
        rate=args.rate,
        subprocesses=args.subprocesses,
        pid=args.pid,
        duration=args.duration if attach else None,
    )
    run_pyspy(recorder, attach=attach)
    if not trace.is_file():
        raise ProfileError(f"py-spy wrote no trace to {trace} (did the command start?)")


def _pyinstrument(command: Sequence[str], out: Path, *, rate: int) -> list[Segment]:
    if not command:
        raise ProfileError("nothing to profile: give a Python command after `--`")
    try:
        import pyinstrument  # noqa: F401
    except ImportError as error:
        raise ProfileError(
            "pyinstrument is not installed: install it with `pip install 'soni[profile]'`"
        ) from error
    interpreter, target = _python_target(command)
    session, html = out / SESSION, out / HTML
    runner = [
        interpreter,
        "-m",
        "audit.profiling.pyinstrument_run",
        "--session",
        str(session),
        "--html",
        str(html),
        "--interval",
        str(1 / rate),
        "--",
        *target,
    ]
    status = subprocess.run(runner, check=False).returncode  # noqa: S603 -- the command the user asked to profile, no shell
    if not session.is_file():
        raise ProfileError(
            f"the profiled command failed (exit status {status}) before a session was saved"
        )
    return read_session(session)


def _python_target(command: Sequence[str]) -> tuple[str, list[str]]:
    """(interpreter, `script args` or `-m module args`) for a Python command line."""
    first, rest = command[0], list(command[1:])
    if Path(first).name.startswith("python"):
        return first, rest
    script = Path(first) if Path(first).is_file() else None
    if script is None:
        import shutil

        found = shutil.which(first)
        script = Path(found) if found else None
    if script is None:
        raise ProfileError(f"command not found: {first}")
    return sys.executable, [str(script), *rest]


def _load(path: Path, classifier: LoopClassifier, threshold: float) -> tuple[list[Block], str]:
    if path.suffix == ".pyisession":
        segments = read_session(path)
        return find_blocks(segments, classifier, threshold=threshold, source="pyinstrument"), (
            "pyinstrument"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ProfileError(f"{path}: cannot read: {error}") from error
    if isinstance(data, dict) and "sites" in data and "version" in data:
        found = [
            Block.from_json(block)
            for site in data["sites"]
            for block in site.get("blocks", [])
            if block["duration_ms"] >= threshold * 1000
        ]
        return found, ", ".join(data.get("sources", [])) or "watchdog"
    return find_blocks(read_trace(path), classifier, threshold=threshold, source="py-spy"), "py-spy"


def _summary(profile: Profile, written: Sequence[Path]) -> None:
    blocked = sum(block.duration for block in profile.blocks) * 1000
    print(
        f"soni-audit profile: {len(profile.sites)} sites, {len(profile.blocks)} blocks "
        f"({blocked:.1f} ms) of at least {profile.threshold * 1000:g} ms"
    )
    for joined in profile.sites:
        site, frame = joined.site, joined.site.place.frame
        call = f"  {site.place.call}" if site.place.call else ""
        print(
            f"  {profile.relative(frame.file)}:{frame.line} {frame.function}{call}  "
            f"{site.count}x mean {site.mean * 1000:.1f} ms max {site.max * 1000:.1f} ms  "
            f"[{joined.status}]"
        )
    for path in written:
        print(f"soni-audit: wrote {path}", file=sys.stderr)
