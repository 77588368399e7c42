"""The `soni` command line: `soni chat` (a terminal conversation), `soni serve` (HTTP),
`soni test` (conversation tests of a domain) and `soni validate` (a domain alone)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from soni import __version__
from soni.errors import SoniError

if TYPE_CHECKING:
    from soni.config.loader import SoniConfig
    from soni.server.security import Security
    from soni.server.serve import ServeOptions

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
    test = commands.add_parser(
        "test",
        help="run conversation tests (YAML): exit 0 when all pass, 1 when one fails, 2 when "
        "a file or its domain cannot be loaded",
    )
    test.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="test files or dirs")
    test.add_argument(
        "--config", type=Path, help="the domain to test (default: each file's `domain:`)"
    )
    validate = commands.add_parser(
        "validate", help="check a domain: errors (exit 2) and warnings, with file and line"
    )
    validate.add_argument("config", type=Path, metavar="PATH", help="domain YAML file or dir")
    serve = commands.add_parser("serve", help="serve a domain over HTTP (uvicorn)")
    serve.add_argument("--config", type=Path, required=True, help="domain YAML file or directory")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    serve.add_argument(
        "--state", type=Path, help="keep conversations in this SQLite file (overrides settings)"
    )
    serve.add_argument(
        "--workers",
        type=_positive(int),
        default=1,
        metavar="N",
        help="serve from N processes sharing the port, each with its own runtime and "
        "database pools; a worker that dies is replaced (default: 1). N > 1 needs "
        "conversations in PostgreSQL (settings.persistence.backend: postgres)",
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
    _security_arguments(serve)
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


def _security_arguments(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group(
        "security",
        "Override settings.server of the domain. Secrets are read from files or the "
        "environment (SONI_AUTH_TOKEN, SONI_JWT_SECRET), never from the command line.",
    )
    group.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve without authentication: anyone who reaches the server may read and "
        "change every conversation (local development only)",
    )
    group.add_argument(
        "--auth-token-file",
        type=Path,
        metavar="FILE",
        help="a shared token for a trusted front end, which may act for any user "
        "(default: $SONI_AUTH_TOKEN when set)",
    )
    group.add_argument(
        "--jwt-secret-file", type=Path, metavar="FILE", help="HS256 JWTs signed with this secret"
    )
    group.add_argument(
        "--jwt-public-key-file", type=Path, metavar="FILE", help="RS/ES JWTs: a PEM public key"
    )
    group.add_argument(
        "--jwt-jwks-file", type=Path, metavar="FILE", help="RS/ES JWTs: a JSON Web Key Set"
    )
    group.add_argument(
        "--jwt-algorithm",
        action="append",
        metavar="ALG",
        help="an accepted JWT algorithm, e.g. RS256 (repeatable; default HS256)",
    )
    group.add_argument("--jwt-issuer", metavar="ISS", help="the required `iss` of JWTs")
    group.add_argument("--jwt-audience", metavar="AUD", help="the required `aud` of JWTs")
    group.add_argument(
        "--jwt-admin-claim",
        metavar="CLAIM",
        help="the claim that holds the admin role (default: roles; the role: admin)",
    )
    group.add_argument(
        "--jwt-leeway", type=float, metavar="SECONDS", help="clock skew allowed (default: 30)"
    )
    group.add_argument(
        "--rate-limit-user",
        type=_bucket,
        metavar="RATE[:BURST]",
        help="requests per second per user id, and how many at once (e.g. 1:5)",
    )
    group.add_argument(
        "--rate-limit-client",
        type=_bucket,
        metavar="RATE[:BURST]",
        help="requests per second per client address, and how many at once (e.g. 20:40)",
    )
    group.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="a web origin allowed to call the server from a browser (repeatable; none by "
        "default), e.g. https://www.example.com",
    )


def _bucket(text: str) -> dict[str, float]:
    rate, _, burst = text.partition(":")
    try:
        bucket = {"per_second": float(rate), "burst": int(burst) if burst else 10}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected RATE[:BURST], e.g. 1:5, got {text}") from None
    if bucket["per_second"] <= 0 or bucket["burst"] < 1:
        raise argparse.ArgumentTypeError(f"expected a rate > 0 and a burst >= 1, got {text}")
    return bucket


_OVERRIDES = {
    "auth_token_file": "auth.token.file",
    "jwt_secret_file": "auth.jwt.secret_file",
    "jwt_public_key_file": "auth.jwt.public_key_file",
    "jwt_jwks_file": "auth.jwt.jwks_file",
    "jwt_algorithm": "auth.jwt.algorithms",
    "jwt_issuer": "auth.jwt.issuer",
    "jwt_audience": "auth.jwt.audience",
    "jwt_admin_claim": "auth.jwt.admin_claim",
    "jwt_leeway": "auth.jwt.leeway_s",
    "rate_limit_user": "rate_limits.per_user",
    "rate_limit_client": "rate_limits.per_client",
    "cors_origin": "cors.allow_origins",
}
"""`soni serve` flag -> the key of settings.server it overrides."""


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    found: dict[str, object] = {}
    for flag, key in _OVERRIDES.items():
        value = getattr(args, flag)
        if value is not None:
            found[key] = str(value.resolve()) if isinstance(value, Path) else value
    return found


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
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    config, options, security = prepared
    if options.workers == 1:
        from soni.server.serve import serve

        return serve(config, options, security)
    from soni.server.workers import refusal, supervise

    problem = refusal(options, config.domain.settings.persistence)
    if problem is not None:
        print(f"soni: {problem}", file=sys.stderr)
        return 2
    return supervise(options, functools.partial(_serve_worker, args))


def _serve_worker(
    args: argparse.Namespace, sockets: list[socket.socket], on_ready: Callable[[], None]
) -> int:
    """One worker of `soni serve --workers N`, in its own process: the same server, built
    again from the same arguments, on the socket its supervisor bound."""
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    from soni.server.serve import serve

    return serve(*prepared, sockets=sockets, on_ready=on_ready)


def _prepare(args: argparse.Namespace) -> tuple[SoniConfig, ServeOptions, Security] | int:
    """The configuration, options and security of `soni serve`, or the exit code (2, with
    the problem on stderr) when one is wrong."""
    try:
        from pydantic import ValidationError

        from soni.config.loader import load_config
        from soni.server.security import build_security, with_overrides
        from soni.server.serve import ServeOptions
    except ImportError as error:
        return _missing(error, "server")
    try:
        config = load_config(args.config)
        settings = with_overrides(config.domain.settings.server, _overrides(args))
        security = build_security(
            settings, config.base_dir, os.environ, insecure_no_auth=args.insecure_no_auth
        )
    except ValidationError as error:
        problems = "; ".join(
            f"settings.server.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
        )
        print(f"soni: {problems}", file=sys.stderr)
        return 2
    except (SoniError, OSError) as error:
        print(f"soni: {error}", file=sys.stderr)
        return 2
    options = ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
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
    return config, options, security


def _test(args: argparse.Namespace) -> int:
    try:
        from soni.testing import exit_code, report, run_files
    except ImportError as error:
        return _missing(error, "runtime")
    results = asyncio.run(run_files(args.paths, domain=args.config))
    for line in report(results):
        print(line)
    return exit_code(results)


def _validate(args: argparse.Namespace) -> int:
    try:
        from soni.config.loader import load_config
    except ImportError as error:
        return _missing(error, "runtime")
    try:
        config = load_config(args.config)
    except SoniError as error:
        print(f"soni: {error}", file=sys.stderr)
        return 2
    domain = config.domain
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"{args.config}: valid ({len(domain.flows)} flows, {len(domain.slots)} slots, "
        f"{len(config.actions.names)} actions, {len(config.warnings)} warnings)"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "test":
        return _test(args)
    if args.command == "validate":
        return _validate(args)
    try:
        from soni.runtime.chat import chat
    except ImportError as error:
        return _missing(error, "runtime")
    return asyncio.run(chat(args.config, args.user, args.state))


if __name__ == "__main__":
    raise SystemExit(main())
