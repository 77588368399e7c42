"""What a team adopting the check on existing code asks of a run: fail only on findings not
in a baseline, only on lines changed since a git revision, and the fingerprints to write a
new baseline with."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.core.findings import Finding
from audit.engine.baseline import BaselineError, Entry, entries, read_baseline, split
from audit.engine.config import Config
from audit.engine.since import ChangedLines, changed_since
from audit.rules.selection import RuleSelection


@dataclass(frozen=True)
class Adopted:
    new: tuple[Finding, ...]  # what the run reports
    known: tuple[Finding, ...] = ()  # in the baseline
    stale: tuple[Entry, ...] = ()  # baseline entries no finding matched any more
    entries: tuple[Entry, ...] = ()  # every finding's entry, when asked for


@dataclass(frozen=True)
class Adoption:
    baseline: frozenset[Entry] | None = None
    since: ChangedLines | None = None
    fingerprint: bool = False  # compute each finding's baseline entry (`--write-baseline`)

    def apply(
        self,
        findings: Sequence[Finding],
        sources: Mapping[str, bytes],
        *,
        checked: frozenset[str],
        selection: RuleSelection,
    ) -> Adopted:
        """`findings` with paths relative to the root, as `sources` has them. The baseline
        is matched against every finding (an entry is stale only when nothing matches it);
        `--since` then keeps the new findings on changed lines."""
        every = tuple(entries(findings, sources)) if self.fingerprint else ()
        new: tuple[Finding, ...] = tuple(findings)
        known: tuple[Finding, ...] = ()
        stale: tuple[Entry, ...] = ()
        if self.baseline is not None:
            parts = split(
                findings, sources, self.baseline, checked=checked, selected=selection.enabled
            )
            new, known, stale = parts.new, parts.known, parts.stale
        since = self.since
        if since is not None:
            new = tuple(f for f in new if since.contains(f.path, f.line))
        return Adopted(new, known, stale, every)


def add_arguments(parser: argparse.ArgumentParser, *, writing: bool) -> None:
    group = parser.add_argument_group("adopting on an existing codebase")
    group.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="report only findings not in FILE (default: `baseline` in [tool.soni-audit])",
    )
    group.add_argument(
        "--since",
        metavar="REF",
        help="report only findings on lines added or changed since the git revision REF",
    )
    if writing:
        group.add_argument(
            "--write-baseline",
            action="store_true",
            help="write the current findings to the baseline file and exit 0",
        )
        group.add_argument(
            "--add-noqa",
            action="store_true",
            help="add `# noqa: CODE` to every line with a finding (changes files)",
        )


def baseline_file(args: argparse.Namespace, config: Config) -> Path | None:
    if args.baseline is not None:
        return Path(args.baseline)
    return config.root / config.baseline if config.baseline else None


def adoption_for(args: argparse.Namespace, config: Config, *, writing: bool = False) -> Adoption:
    """The adoption a command line asks for (the baseline is not read when it is being
    written)."""
    since = changed_since(config.root.resolve(), args.since) if args.since else None
    path = baseline_file(args, config)
    if writing:
        if path is None:
            raise BaselineError(
                "--write-baseline needs --baseline FILE (or `baseline` in [tool.soni-audit])"
            )
        return Adoption(since=since, fingerprint=True)
    return Adoption(read_baseline(path) if path is not None else None, since)
