"""Run py-spy the one way that measures blocks faithfully, and say why when it cannot run.

`--nonblocking` because pausing the target per sample stalls it on disk reads and inflates
block durations 1.3-5x; `--idle` because a loop thread sitting in `time.sleep` or a blocking
read is exactly what we look for and py-spy drops idle threads by default; chrometrace because
it is the only format that keeps timestamps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.profiling.errors import ProfileError

CAP_SYS_PTRACE = 19


def find_pyspy() -> str:
    """py-spy next to this interpreter (a virtualenv's bin) or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise ProfileError(
            "py-spy is not installed: install it with `pip install 'soni[profile]'` "
            "(or `pip install py-spy`)"
        )
    return found


def _capability(number: int) -> bool:
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> number & 1)
    return False


def _yama_scope() -> int | None:
    try:
        return int(Path("/proc/sys/kernel/yama/ptrace_scope").read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Permission:
    """Whether py-spy may read a process: `problem` is None when it may."""

    problem: str | None

    @classmethod
    def check(cls, *, attach: bool) -> Permission:
        """`attach`: reading a process that is not py-spy's own child (`--pid`)."""
        if sys.platform != "linux":
            return cls(None)  # macOS and Windows need root or an admin shell; py-spy says so
        if _capability(CAP_SYS_PTRACE):
            return cls(None)
        scope = _yama_scope()
        if scope in (None, 0) or (scope == 1 and not attach):
            return cls(None)
        return cls(explain(scope))


def explain(scope: int | None) -> str:
    reason = (
        f"kernel.yama.ptrace_scope is {scope}"
        if scope is not None
        else "the kernel refused to let py-spy read the process memory"
    )
    return (
        f"py-spy cannot read the target process: {reason} and this process lacks "
        "CAP_SYS_PTRACE. Fix one of: run as root (`sudo soni-audit profile ...`); allow "
        "ptrace for your user with `sudo sysctl kernel.yama.ptrace_scope=0` (scope 1 is "
        "enough when soni-audit starts the command itself); in a container add "
        "`--cap-add SYS_PTRACE`. Without ptrace, use the in-process watchdog "
        "(`pytest -p audit.profiling.pytest_plugin`) or `soni-audit profile --pyinstrument`."
    )


def record_command(
    command: Sequence[str],
    trace: Path,
    *,
    rate: int,
    subprocesses: bool = False,
    pid: int | None = None,
    duration: float | None = None,
) -> list[str]:
    """The py-spy command line that records `command` (or process `pid`) into `trace`."""
    args = [
        find_pyspy(),
        "record",
        "--nonblocking",
        "--idle",
        "--rate",
        str(rate),
        "--format",
        "chrometrace",
        "--output",
        str(trace),
    ]
    if subprocesses:
        args.append("--subprocesses")
    if pid is not None:
        args += ["--pid", str(pid)]
        if duration is not None:
            args += ["--duration", str(max(1, round(duration)))]
        return args
    return [*args, "--", *command]


def run_pyspy(args: Sequence[str], *, attach: bool) -> None:
    """Run py-spy with the terminal passed through (the command's own output stays visible).

    py-spy reports a refused ptrace only as an error line, so on failure the permission
    check runs again to turn it into an explanation.
    """
    status = subprocess.run(args, check=False).returncode  # noqa: S603 -- py-spy with arguments we build, no shell
    if status == 0:
        return
    problem = Permission.check(attach=attach).problem
    if problem is not None:
        raise ProfileError(problem)
    raise ProfileError(f"py-spy failed with exit status {status} (its message is above)")


def command_exists(command: Sequence[str]) -> None:
    if not command:
        raise ProfileError("nothing to profile: give a command after `--`, or --pid PID")
    if shutil.which(command[0]) is None and not Path(command[0]).is_file():
        raise ProfileError(f"command not found: {command[0]}")
