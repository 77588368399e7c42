"""What the loop watchdog and py-spy cost an asyncio server, busy and idle.

An echo server (asyncio streams, one process) answers 64-byte lines. Two figures per mode:

- busy: a client process keeps `--depth` lines in flight on each of `--connections`
  connections for `--seconds`, enough to keep the server's loop thread at 100% of a core,
  so round trips per second is the server's capacity;
- idle: the server's CPU time per second while nobody talks to it (what an always-on
  watchdog costs a quiet server).

Modes: bare; the watchdog at each `--intervals` beat (ms; the default for a 10 ms threshold
is marked); py-spy `record --nonblocking --idle --rate 1000` attached to the server. Each
mode runs `--repeats` times, modes interleaved, medians compared with the bare server.
Writes `reports/profiling-overhead.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MESSAGE = b"x" * 64 + b"\n"
THRESHOLD_MS = 10.0


@dataclass
class Mode:
    name: str
    server_options: list[str]
    pyspy: bool = False
    rates: list[float] = field(default_factory=list)
    idle_cpu: list[float] = field(default_factory=list)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def serve(port: int, interval_ms: float | None) -> None:
    from audit.profiling.watchdog import LoopWatchdog

    server = await asyncio.start_server(_echo, "127.0.0.1", port)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if interval_ms is not None:
        # Made off the loop: the watchdog resolves the project's paths as it is built.
        made = functools.partial(
            LoopWatchdog, threshold_ms=THRESHOLD_MS, interval_ms=interval_ms or None
        )
        async with await asyncio.to_thread(made):
            await stop.wait()
    else:
        await stop.wait()
    server.close()


async def _client(port: int, until: float, depth: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    batch = MESSAGE * depth
    count = 0
    while time.perf_counter() < until:
        writer.write(batch)
        await reader.readexactly(len(batch))
        count += depth
    writer.close()
    return count


async def drive(port: int, seconds: float, connections: int, depth: int) -> None:
    until = time.perf_counter() + seconds
    clients = (_client(port, until, depth) for _ in range(connections))
    counts = await asyncio.gather(*clients)
    print(sum(counts) / seconds)


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError("the echo server did not start")


def _attach_pyspy(pid: int, trace: Path) -> subprocess.Popen[bytes]:
    from audit.profiling.pyspy import find_pyspy

    command = [find_pyspy(), "record", "--nonblocking", "--idle", "--rate", "1000"]
    command += ["--format", "chrometrace", "--output", str(trace), "--pid", str(pid)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    """CPU time of all threads of `pid`: Linux's per-thread schedstat counts nanoseconds,
    where the usual counters tick in 10 ms steps (too coarse for an idle server)."""
    tasks = Path(f"/proc/{pid}/task")
    if tasks.is_dir():
        stats = (task / "schedstat" for task in tasks.iterdir())
        return sum(int(stat.read_text().split()[0]) for stat in stats) / 1e9
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def one_run(mode: Mode, args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    """(round trips per second when busy, server CPU ms per second when idle)."""
    from harness.servers import free_port  # here: the echo server itself imports little

    port = free_port()
    role = ["--role", "server", "--port", str(port), *mode.server_options]
    server = subprocess.Popen([sys.executable, __file__, *role])
    spy = None
    try:
        _wait_listening(port)
        if mode.pyspy:
            spy = _attach_pyspy(server.pid, workdir / f"trace-{port}.json")
        time.sleep(1.0)  # start-up settles; py-spy attaches and starts sampling
        before = cpu_seconds(server.pid)
        time.sleep(args.idle_seconds)
        idle = (cpu_seconds(server.pid) - before) / args.idle_seconds
        client = [sys.executable, __file__, "--role", "client", "--port", str(port)]
        client += ["--seconds", str(args.seconds), "--connections", str(args.connections)]
        client += ["--depth", str(args.depth)]
        completed = subprocess.run(client, capture_output=True, text=True, check=True)
        return float(completed.stdout.strip()), idle * 1000
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        if spy is not None:
            spy.wait(timeout=20)


def modes(intervals: list[float]) -> list[Mode]:
    from audit.profiling.watchdog import default_interval_ms

    default = default_interval_ms(THRESHOLD_MS)
    watchdogs = [
        Mode(
            f"watchdog, {interval:g} ms beat" + (" (default)" if interval == default else ""),
            ["--watchdog-interval-ms", str(interval)],
        )
        for interval in intervals
    ]
    return [Mode("bare", []), *watchdogs, Mode("py-spy 1000 Hz", [], pyspy=True)]


def rows(runs: list[Mode]) -> list[dict[str, object]]:
    """One row of the report per mode, against the bare server (the first)."""
    bare_rate = statistics.median(runs[0].rates)
    bare_idle = statistics.median(runs[0].idle_cpu)
    return [
        {
            "mode": mode.name,
            "rate": statistics.median(mode.rates),
            "runs": ", ".join(f"{rate:,.0f}" for rate in mode.rates),
            "overhead": (1 - statistics.median(mode.rates) / bare_rate) * 100,
            "idle": statistics.median(mode.idle_cpu),
            "idle_extra": statistics.median(mode.idle_cpu) - bare_idle,
        }
        for mode in runs
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("bench", "server", "client"), default="bench")
    parser.add_argument("--port", type=int)
    parser.add_argument("--watchdog-interval-ms", type=float, help="0: the default beat")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--idle-seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--depth", type=int, default=16, help="lines in flight per connection")
    parser.add_argument("--intervals", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("reports/profiling-overhead.md"))
    args = parser.parse_args()
    if args.role == "server":
        asyncio.run(serve(args.port, args.watchdog_interval_ms))
        return 0
    if args.role == "client":
        asyncio.run(drive(args.port, args.seconds, args.connections, args.depth))
        return 0
    runs = modes(args.intervals)
    with tempfile.TemporaryDirectory() as workdir:
        for repeat in range(args.repeats):
            for mode in runs:
                rate, idle = one_run(mode, args, Path(workdir))
                mode.rates.append(rate)
                mode.idle_cpu.append(idle)
                print(
                    f"run {repeat + 1} {mode.name}: {rate:,.0f} round trips/s busy, "
                    f"{idle:.1f} ms CPU per s idle",
                    file=sys.stderr,
                )
    from harness.report import publish

    publish(
        "profiling-overhead.md.j2", args.out, rows=rows(runs), args=args, threshold_ms=THRESHOLD_MS
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
