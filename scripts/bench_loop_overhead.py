"""What the loop watchdog and py-spy cost a busy asyncio server.

An echo server (asyncio streams, one process) answers small messages from a client process
with 32 connections for a fixed time; the figure is round trips per second. Each mode runs
`--repeats` times, modes interleaved, medians compared with the bare server:

- bare: nothing attached;
- watchdog: `audit.profiling.watchdog.LoopWatchdog` started inside the server;
- py-spy: `py-spy record --nonblocking --idle --rate 1000` attached to the server.

Writes `reports/profiling-overhead.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MESSAGE = b"x" * 64 + b"\n"
MODES = ("bare", "watchdog", "py-spy")


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def serve(port: int, watchdog: bool) -> None:
    from audit.profiling.watchdog import LoopWatchdog

    server = await asyncio.start_server(_echo, "127.0.0.1", port)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if watchdog:
        async with LoopWatchdog(threshold_ms=10):
            await stop.wait()
    else:
        await stop.wait()
    server.close()


async def _client(port: int, until: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    count = 0
    while time.perf_counter() < until:
        writer.write(MESSAGE)
        await reader.readline()
        count += 1
    writer.close()
    return count


async def drive(port: int, seconds: float, connections: int) -> None:
    until = time.perf_counter() + seconds
    counts = await asyncio.gather(*(_client(port, until) for _ in range(connections)))
    print(sum(counts) / seconds)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError("the echo server did not start")


def one_run(mode: str, seconds: float, connections: int, workdir: Path) -> tuple[float, float]:
    """(round trips per second, server CPU microseconds per round trip)."""
    import psutil

    from audit.profiling.pyspy import find_pyspy

    port = _port()
    role = ["--role", "server", "--port", str(port)]
    if mode == "watchdog":
        role.append("--watchdog")
    server = subprocess.Popen([sys.executable, __file__, *role])
    spy = None
    try:
        _wait_listening(port)
        if mode == "py-spy":
            trace = workdir / f"trace-{port}.json"
            spy = subprocess.Popen(
                [
                    find_pyspy(),
                    "record",
                    "--nonblocking",
                    "--idle",
                    "--rate",
                    "1000",
                    "--format",
                    "chrometrace",
                    "--output",
                    str(trace),
                    "--pid",
                    str(server.pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)  # py-spy attaches and starts sampling
        client = subprocess.run(
            [
                sys.executable,
                __file__,
                "--role",
                "client",
                "--port",
                str(port),
                "--seconds",
                str(seconds),
                "--connections",
                str(connections),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rate = float(client.stdout.strip())
        cpu = psutil.Process(server.pid).cpu_times()
        return rate, (cpu.user + cpu.system) / (rate * seconds) * 1e6
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        if spy is not None:
            spy.wait(timeout=20)


def report(
    figures: dict[str, list[float]], cpu: dict[str, list[float]], args: argparse.Namespace
) -> str:
    from audit.report.build import environment

    bare = statistics.median(figures["bare"])
    bare_cpu = statistics.median(cpu["bare"])
    rows = [
        {
            "mode": mode,
            "median": statistics.median(runs),
            "runs": ", ".join(f"{run:,.0f}" for run in runs),
            "overhead": (1 - statistics.median(runs) / bare) * 100,
            "cpu": statistics.median(cpu[mode]),
            "cpu_overhead": (statistics.median(cpu[mode]) / bare_cpu - 1) * 100,
        }
        for mode, runs in figures.items()
    ]
    return (
        environment()
        .get_template("profiling-overhead.md.j2")
        .render(
            rows=rows,
            seconds=args.seconds,
            connections=args.connections,
            repeats=args.repeats,
            machine=f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("bench", "server", "client"), default="bench")
    parser.add_argument("--port", type=int)
    parser.add_argument("--watchdog", action="store_true")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("reports/profiling-overhead.md"))
    args = parser.parse_args()
    if args.role == "server":
        asyncio.run(serve(args.port, args.watchdog))
        return 0
    if args.role == "client":
        asyncio.run(drive(args.port, args.seconds, args.connections))
        return 0
    figures: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as workdir:
        for repeat in range(args.repeats):
            for mode in MODES:
                rate, micros = one_run(mode, args.seconds, args.connections, Path(workdir))
                figures[mode].append(rate)
                cpu[mode].append(micros)
                print(
                    f"run {repeat + 1} {mode:>8}: {rate:,.0f} round trips/s, "
                    f"server CPU {micros:.1f} us per round trip",
                    file=sys.stderr,
                )
    text = report(figures, cpu, args)
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
