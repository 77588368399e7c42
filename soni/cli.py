"""The `soni` command line: `soni chat` (a terminal conversation) and, later, `soni serve`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from soni import __version__


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from soni.runtime.chat import chat
    except ImportError as error:
        print(
            f"soni: the runtime needs its dependencies: pip install 'soni[runtime]' ({error})",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(chat(args.config, args.user, args.state))


if __name__ == "__main__":
    raise SystemExit(main())
