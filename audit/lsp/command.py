"""`soni-audit server`: start the language server on stdin/stdout, or say which extra to
install when pygls is missing."""

from __future__ import annotations

import argparse
import sys

EXTRA_MISSING = (
    "soni-audit: error: `soni-audit server` needs the language-server extra: "
    "pip install 'soni[lsp]' (missing: {name})"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="talk LSP over stdin/stdout (the default and only transport; accepted because "
        "editors pass it)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        from audit.lsp.server import serve
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in {"pygls", "lsprotocol", "cattrs", "attrs"}:
            raise
        print(EXTRA_MISSING.format(name=error.name), file=sys.stderr)
        return 2
    serve()
    return 0
