"""The `soni` command line: `soni chat` (a terminal conversation) and `soni serve` (HTTP)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from soni import __version__
from soni.errors import SoniError

_N = TypeVar("_N", int, float)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soni", description="A task-oriented dialogue runtime.")
    parser.add_argument("--version", action="version", version=f"soni {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chat = commands.add_parser("chat", help="talk to a domain in the terminal")
    chat.add_argument(
        "--config", type=Path, help="domain YAML file or directory (default: the banking example)"
    )
    chat.add_argument("--user", default="terminal", help="conversation id (default: terminal)")
    chat.add_argument("--state", type=Path, help="keep the conversation in this SQLite file")
    serve = commands.add_parser("serve", help="serve a domain over HTTP (uvicorn)")
    serve.add_argument("--config", type=Path, required=True, help="domain YAML file or directory")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    serve.add_argument(
        "--state", type=Path, help="keep conversations in this SQLite file (overrides settings)"
    )
    serve.add_argument(
        "--keep-alive",
        type=_positive(int),
        default=75,
        metavar="SECONDS",
        help="close a connection idle this long (default: 75, longer than the 60 s of nginx "
        "and AWS load balancers and the 5-15 s of HTTP clients; keep it above the idle "
        "timeout of whatever is in front)",
    )
    serve.add_argument(
        "--request-timeout",
        type=_positive(float),
        default=20.0,
        metavar="SECONDS",
        help="a request's headers and body must arrive within this long, else 408 and the "
        "connection is closed (slow clients cannot hold connections; default: 20)",
    )
    serve.add_argument(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="take the client address and scheme from X-Forwarded-For/X-Forwarded-Proto sent "
        "by a trusted proxy (default: on)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses or networks trusted to send proxy headers, or '*' "
        "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1)",
    )
    serve.add_argument(
        "--root-path",
        default="",
        metavar="PATH",
        help="the path prefix a proxy serves soni under, e.g. /bot (default: none)",
    )
    serve.add_argument(
        "--idempotency-ttl",
        type=_positive(float),
        default=86400.0,
        metavar="SECONDS",
        help="how long an Idempotency-Key is remembered: a retry within it is answered "
        "without running the turn again (default: 86400, a day)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--no-access-log", dest="access_log", action="store_false", help="no line per request"
    )
    serve.add_argument(
        "--shutdown-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on SIGTERM, report not ready this long before closing the listener (default: 0)",
    )
    serve.add_argument(
        "--graceful-timeout",
        type=int,
        default=30,
        metavar="SECONDS",
        help="how long in-flight requests may take to finish on shutdown (default: 30)",
    )
    serve.add_argument(
        "--loop-watchdog-ms",
        type=float,
        metavar="MS",
        help="log every event-loop block of at least MS milliseconds, at the line of your "
        "actions (or of soni) that ran it (soni-audit's watchdog)",
    )
    serve.add_argument(
        "--loop-watchdog-report",
        type=Path,
        metavar="FILE",
        help="write the loop blocks as findings JSON at shutdown (soni-audit profile --from)",
    )
    return parser


def _positive(kind: Callable[[str], _N]) -> Callable[[str], _N]:
    def parse(text: str) -> _N:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def _missing(error: ImportError, extra: str) -> int:
    print(
        f"soni: this command needs its dependencies: pip install 'soni[{extra}]' ({error})",
        file=sys.stderr,
    )
    return 2


def _serve(args: argparse.Namespace) -> int:
    try:
        from soni.config.loader import load_config
        from soni.server.serve import ServeOptions, serve
    except ImportError as error:
        return _missing(error, "server")
    try:
        config = load_config(args.config)
    except (SoniError, OSError) as error:
        print(f"soni: {error}", file=sys.stderr)
        return 2
    options = ServeOptions(
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.access_log,
        shutdown_delay=args.shutdown_delay,
        graceful_timeout=args.graceful_timeout,
        state=args.state,
        keep_alive=args.keep_alive,
        request_timeout=args.request_timeout,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        root_path=args.root_path,
        idempotency_ttl=args.idempotency_ttl,
        loop_watchdog_ms=args.loop_watchdog_ms,
        loop_watchdog_report=args.loop_watchdog_report,
    )
    return serve(config, options)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    try:
        from soni.runtime.chat import chat
    except ImportError as error:
        return _missing(error, "runtime")
    return asyncio.run(chat(args.config, args.user, args.state))


if __name__ == "__main__":
    raise SystemExit(main())
