"""Run a Python program under pyinstrument with `async_mode="disabled"` and keep its session.

`python -m audit.profiling.pyinstrument_run --session S --html H [--interval SECONDS] --
(script.py | -m module) ARGS...`. In disabled mode pyinstrument records every thread stack
of the main thread in order, C builtins included (`sleep`, `Connection.execute`), instead of
folding other tasks' time behind `[await]`; the ordered frame records become a timeline.
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from audit.profiling.errors import ProfileError
from audit.profiling.frames import Frame, Segment, Stack

THREAD = "main"


def parse_frame(identifier: str, cwd: Path) -> Frame:
    """`function\\x00file\\x00first_line[\\x01cClass][\\x01lLine]` -> Frame."""
    head, *attributes = identifier.split("\x01")
    function, _, rest = head.partition("\x00")
    file, _, first = rest.partition("\x00")
    line = int(first) if first.isdigit() else 0
    owner = None
    for attribute in attributes:
        if attribute.startswith("l") and attribute[1:].isdigit():
            line = int(attribute[1:])
        elif attribute.startswith("c"):
            owner = attribute[1:]
    if file and not file.startswith("<") and not file.startswith("/"):
        file = str((cwd / file).resolve())
    qualified = f"{owner}.{function}" if owner and "." not in function else function
    return Frame(file or "<built-in>", line, qualified)


def read_session(path: Path) -> list[Segment]:
    """Segments of the main thread, in order, from a saved pyinstrument session."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = data["frame_records"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ProfileError(f"{path}: not a pyinstrument session: {error}") from error
    cwd = Path(str(data.get("cwd") or Path.cwd()))
    return list(_timeline(records, cwd, path))


def _timeline(records: list[Any], cwd: Path, origin: Path) -> Iterator[Segment]:
    cache: dict[str, Frame] = {}
    clock = 0.0
    for index, record in enumerate(records):
        try:
            identifiers, seconds = record
            stack: Stack = tuple(
                cache.get(i) or cache.setdefault(i, parse_frame(i, cwd)) for i in identifiers
            )
            seconds = float(seconds)
        except (TypeError, ValueError) as error:
            raise ProfileError(f"{origin}: frame record {index} is malformed: {error}") from error
        yield Segment(THREAD, clock, clock + seconds, stack)
        clock += seconds


def _target(argv: Sequence[str]) -> tuple[str, str, list[str]]:
    if not argv:
        raise SystemExit("pyinstrument_run: give a script or -m module after --")
    if argv[0] == "-m":
        if len(argv) < 2:
            raise SystemExit("pyinstrument_run: -m needs a module name")
        return "module", argv[1], [argv[1], *argv[2:]]
    return "script", argv[0], list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from pyinstrument import Profiler

    parser = argparse.ArgumentParser(prog="python -m audit.profiling.pyinstrument_run")
    parser.add_argument("--session", type=Path, required=True)
    parser.add_argument("--html", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=0.001)
    parser.add_argument("target", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    target = args.target[1:] if args.target[:1] == ["--"] else args.target
    kind, name, program_argv = _target(target)
    sys.argv = program_argv
    profiler = Profiler(interval=args.interval, async_mode="disabled")
    status = 0
    profiler.start()
    try:
        if kind == "module":
            runpy.run_module(name, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, str(Path(name).resolve().parent))
            runpy.run_path(name, run_name="__main__")
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        session = profiler.stop()
        data = session.to_json()
        data["cwd"] = str(Path.cwd())
        args.session.write_text(json.dumps(data), encoding="utf-8")
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
