"""The `soni-audit` command line.

Exit status of `check`: 0 no findings, 1 findings, 2 usage or configuration error, or a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from audit import __version__
from audit.analysis.mypy_unused import MypyError
from audit.budget import BudgetError
from audit.core.findings import Inventory
from audit.dependencies.environment import DependencyError
from audit.engine.baseline import BaselineError
from audit.engine.config import Config, ConfigError, find_config, load_config
from audit.engine.discovery import DiscoveryError
from audit.engine.since import SinceError
from audit.profiling.errors import ProfileError
from audit.rules.selection import RuleSelection, SelectionError

if TYPE_CHECKING:
    from audit.engine.workspace import Workspace

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def _jobs(value: str) -> int:
    jobs = int(value)
    if jobs < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return jobs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soni-audit",
        description="Audit async Python: blocking calls on the event loop, type: ignore "
        "comments and parameter mutation.",
    )
    parser.add_argument("--version", action="version", version=f"soni-audit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="check files and report findings")
    check.add_argument("paths", nargs="*", type=Path, help="files or directories (default: .)")
    check.add_argument(
        "--select",
        type=_codes,
        action="extend",
        help="rules to enable (replaces the configured list), e.g. BLK,AUD900",
    )
    check.add_argument(
        "--extend-select",
        type=_codes,
        action="extend",
        default=[],
        help="rules to enable in addition",
    )
    check.add_argument(
        "--ignore", type=_codes, action="extend", default=[], help="rules to disable"
    )
    check.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    check.add_argument(
        "--output-file", "-o", type=Path, help="write the report here instead of stdout"
    )
    check.add_argument(
        "--jobs", "-j", type=_jobs, help="worker processes (default: number of cores)"
    )
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when there are findings"
    )
    check.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply exclusions to files named on the command line too",
    )
    check.add_argument(
        "--statistics", action="store_true", help="print counts per rule instead of findings"
    )
    check.add_argument(
        "--config",
        type=Path,
        help="pyproject.toml to read (default: nearest with [tool.soni-audit])",
    )
    check.add_argument(
        "--mypy",
        action="store_true",
        help="run mypy to find unused `type: ignore` comments (TIG102)",
    )
    check.add_argument(
        "--budget",
        type=Path,
        metavar="FILE",
        help="fail when a module has more type-checking escapes than FILE allows",
    )
    check.add_argument(
        "--write-budget",
        action="store_true",
        help="write the current counts to the --budget FILE instead of checking them",
    )
    check.add_argument(
        "--dependencies",
        action="store_true",
        help="follow calls into the installed libraries the code imports (BLK106)",
    )
    check.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter (or environment directory) whose libraries --dependencies reads "
        "(default: VIRTUAL_ENV, a .venv beside the configuration, this interpreter)",
    )
    from audit.engine.adoption import add_arguments as add_adoption_arguments
    from audit.fix_command import add_arguments as add_fix_arguments

    add_fix_arguments(check, _codes)
    add_adoption_arguments(check, writing=True)

    report = commands.add_parser("report", help="write markdown audit reports")
    report.add_argument("paths", nargs="*", type=Path, help="files or directories (default: .)")
    report.add_argument("--out", type=Path, default=Path("reports"), help="directory to write")
    report.add_argument("--budget", type=Path, metavar="FILE", help="type-ignore budget to show")
    report.add_argument("--mypy", action="store_true", help="also run mypy for TIG102")
    report.add_argument("--jobs", "-j", type=_jobs, help="worker processes")
    report.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    report.add_argument("--config", type=Path, help="pyproject.toml to read")
    add_adoption_arguments(report, writing=False)

    profile = commands.add_parser(
        "profile",
        help="run a command (or attach to a process) and report what blocks its event loop",
        description="Profile a program with py-spy (default), pyinstrument (--pyinstrument) "
        "or recorded data (--from), find every stretch in which an event loop ran code for "
        "longer than the threshold, and write profile.md and profile.json. Exit status: 0 "
        "no block, 1 blocks found, 2 error.",
    )
    from audit.profiling.command import add_arguments

    add_arguments(profile)

    server = commands.add_parser(
        "server",
        help="run the language server (LSP over stdio) for editors",
        description="Serve diagnostics, fixes and hovers to an editor over LSP on "
        "stdin/stdout. Needs the `lsp` extra: pip install 'soni[lsp]'.",
    )
    from audit.lsp.command import add_arguments as add_server_arguments

    add_server_arguments(server)

    rules = commands.add_parser("rules", help="explain a rule, or list them all")
    rules.add_argument("code", nargs="?", help="a rule code such as BLK100")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "report":
            return _report(args)
        if args.command == "server":
            from audit.lsp.command import run as serve

            return serve(args)
        if args.command == "profile":
            from audit.profiling.command import run

            return run(args)
        return _rules(args)
    except (
        ConfigError,
        DiscoveryError,
        BaselineError,
        SinceError,
        SelectionError,
        BudgetError,
        MypyError,
        ProfileError,
        DependencyError,
    ) as error:
        print(f"soni-audit: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("soni-audit: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception:
        print("soni-audit: internal error (please report it):", file=sys.stderr)
        traceback.print_exc()
        return EXIT_ERROR


def _check(args: argparse.Namespace) -> int:
    from audit import fix_command as fixes
    from audit.engine.adoption import adoption_for, baseline_file
    from audit.engine.baseline import write_baseline
    from audit.engine.workspace import Workspace
    from audit.output import FORMATS
    from audit.output.text import summary_line

    if args.write_budget and args.budget is None:
        raise BudgetError("--write-budget needs --budget FILE to know where to write")
    cwd = Path.cwd()
    config_path = args.config or find_config(cwd)
    config = _with_dependencies(args, load_config(config_path, default_root=cwd))
    selection = config.selection(
        select=args.select, extend_select=args.extend_select, ignore=args.ignore
    )
    policy = config.fix_policy(
        fixable=args.fixable, unfixable=args.unfixable, unsafe=args.unsafe_fixes
    )
    workspace = Workspace(config, use_cache=not args.no_cache, jobs=args.jobs)
    if args.add_noqa:
        if fixes.fixing(args):
            raise ConfigError("--add-noqa cannot be combined with --fix, --diff or --fix-only")
        return _add_noqa(args, workspace, selection, cwd)
    adoption = adoption_for(args, config, writing=args.write_baseline)
    failed = False
    if fixes.fixing(args):
        remaining, fixed, failed = fixes.run(
            args, workspace, selection=selection, policy=policy, cwd=cwd, adoption=adoption
        )
        if remaining is None:  # --diff, --fix-only
            if failed:
                return EXIT_ERROR
            return EXIT_FINDINGS if args.diff and fixed else EXIT_CLEAN
        result = remaining
    else:
        result = workspace.check(
            args.paths or [Path(".")],
            selection=selection,
            force_exclude=args.force_exclude,
            cwd=cwd,
            mypy=args.mypy,
            adoption=adoption,
        )
        result = replace(result, policy=policy)
    if args.write_baseline:
        target = baseline_file(args, config)
        assert target is not None
        written = write_baseline(target, result.entries)
        print(f"soni-audit: wrote {written:,} findings to the baseline {target}", file=sys.stderr)
        return EXIT_CLEAN
    over_budget = _budget(args, result.inventory)
    if args.statistics:
        counts = "".join(f"{count:>6}  {code}\n" for code, count in result.by_code.items())
        output = counts + summary_line(result) + "\n"
    else:
        output = FORMATS[args.format](result)
    if args.output_file is not None:
        args.output_file.parent.mkdir(parents=True, exist_ok=True)
        args.output_file.write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    if failed:
        return EXIT_ERROR
    if (result.findings or over_budget) and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _with_dependencies(args: argparse.Namespace, config: Config) -> Config:
    """The configuration with `--dependencies` and `--python` applied (`--python` alone
    names the environment; only `--dependencies` or the configuration turns them on)."""
    if args.dependencies:
        config = replace(config, dependencies=True)
    if args.python:
        config = replace(config, python=os.path.abspath(args.python))
    return config


def _report(args: argparse.Namespace) -> int:
    from audit.budget import read_budget
    from audit.engine.adoption import adoption_for
    from audit.engine.workspace import Workspace
    from audit.report.build import build_reports, write_reports

    config_path = args.config or find_config(Path.cwd())
    config = load_config(config_path, default_root=Path.cwd())
    workspace = Workspace(config, use_cache=not args.no_cache, jobs=args.jobs)
    result = workspace.check(
        args.paths or [Path(".")],
        selection=config.selection(),
        cwd=workspace.root,
        mypy=args.mypy,
        details=True,
        adoption=adoption_for(args, config),
    )
    scope = " ".join(path.as_posix() for path in args.paths) or "."
    reports = build_reports(
        result,
        workspace=workspace,
        scope=scope,
        out=args.out.as_posix(),
        budget=read_budget(args.budget) if args.budget is not None else None,
    )
    for path in write_reports(reports, args.out):
        print(f"soni-audit: wrote {path}", file=sys.stderr)
    return EXIT_CLEAN


def _add_noqa(
    args: argparse.Namespace, workspace: Workspace, selection: RuleSelection, cwd: Path
) -> int:
    from audit.add_noqa import add_noqa
    from audit.engine.fix_loop import write_changes
    from audit.engine.workspace import display_path

    outcome = add_noqa(
        workspace, args.paths or [Path(".")], selection=selection, force_exclude=args.force_exclude
    )
    for path, line, why in outcome.skipped:
        print(
            f"soni-audit: {display_path(path, workspace.root, cwd)}:{line}: {why}", file=sys.stderr
        )
    errors = write_changes(workspace.root, outcome.changes)
    for error in errors:
        print(f"soni-audit: error: {error}", file=sys.stderr)
    files = len(outcome.changes) - len(errors)
    print(
        f"Added `# noqa` to {outcome.lines:,} line{'s' if outcome.lines != 1 else ''} "
        f"in {files:,} file{'s' if files != 1 else ''}"
        + (f"; {len(outcome.skipped):,} could not take one" if outcome.skipped else "")
        + ".",
        file=sys.stderr,
    )
    return EXIT_ERROR if errors else EXIT_CLEAN


def _budget(args: argparse.Namespace, inventory: Mapping[str, Inventory]) -> bool:
    """Check or write the type-ignore budget; True when a module is over it."""
    from audit.budget import compare, read_budget, write_budget

    if args.budget is None:
        return False
    counts = {module: entry.ignores for module, entry in inventory.items()}
    if args.write_budget:
        write_budget(args.budget, counts)
        print(f"soni-audit: wrote type-ignore budget to {args.budget}", file=sys.stderr)
        return False
    check = compare(read_budget(args.budget), counts)
    for module, count, allowed in check.exceeded:
        print(
            f"soni-audit: budget exceeded: {module} has {count} type-checking escapes "
            f"(budget {allowed}, {args.budget})",
            file=sys.stderr,
        )
    for module, count, allowed in check.tighter:
        print(
            f"soni-audit: budget can be lowered: {module} has {count} (budget {allowed})",
            file=sys.stderr,
        )
    return bool(check.exceeded)


def _rules(args: argparse.Namespace) -> int:
    from audit.docs import rule_page, rules_table
    from audit.rules import all_rules, rule_named

    if args.code is None:
        if args.format == "json":
            table = [{"code": r.code, "name": r.name, "summary": r.summary} for r in all_rules()]
            print(json.dumps(table, indent=2))
        else:
            sys.stdout.write(rules_table())
        return EXIT_CLEAN
    rule = rule_named(args.code.upper())
    if rule is None:
        print(
            f"soni-audit: error: unknown rule '{args.code}' (see `soni-audit rules`)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.format == "json":
        page = {
            "code": rule.code,
            "name": rule.name,
            "summary": rule.summary,
            "documentation": rule.documentation(),
        }
        print(json.dumps(page, indent=2))
    else:
        sys.stdout.write(rule_page(rule))
    return EXIT_CLEAN
