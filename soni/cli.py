"""The `soni` command line. The runtime commands (`chat`, `serve`) arrive with the runtime."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from soni import __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soni", description="A task-oriented dialogue runtime.")
    parser.add_argument("--version", action="version", version=f"soni {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0
