"""Assemble the report data from one check run and render every template."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)

from audit import __version__
from audit.catalogue import default_catalogue
from audit.core.findings import Inventory
from audit.engine.results import CheckResult
from audit.engine.workspace import Workspace
from audit.report.calls import audit_calls
from audit.report.candidates import find_candidates
from audit.rules import MUTATION, all_rules

REPORTS = ("index.md", "sync-calls-audit.md", "type-ignores.md", "param-mutations.md")
RUN_TIME_REPORTS = {
    "profile.md": "event-loop blocks seen at run time (`soni-audit profile`), joined with "
    "the static findings",
    "profiling-overhead.md": "what the loop watchdog and py-spy cost a busy and an idle server",
    "profiling-accuracy.md": "how precisely the watchdog and py-spy time known blocks",
    "load-test.md": "the soni server under load",
    "turn-cost.md": "where the CPU of a soni turn goes, LangGraph's own floor first",
    "history.md": "bounded checkpoint history: turn 10 against turn 1,000, SQLite and PostgreSQL",
    "load-test-replicas.md": "soni server replicas on one PostgreSQL: 1 against N, and a kill -9 "
    "under load",
    "bench-audit.md": "soni-audit's speed against its peers",
    "bench-fix.md": "what `--fix --unsafe-fixes` repairs on real code, verified, and its cost",
    "bench-lsp.md": "the language server: from an edit to its diagnostics, and its memory, "
    "beside ruff server",
    "bench-deps.md": "`check --dependencies` on a project importing large SDKs: its cost, and "
    "what it finds inside them",
    "stress-suite.md": "the timing-sensitive tests run beside one busy process per core, "
    "and the flaky tests found and fixed",
    "stress-suite-server.md": "the server tests run beside one busy process per core",
}


@dataclass(frozen=True)
class InventoryRow:
    module: str
    blanket: int
    coded: int
    codes: str
    other_checkers: int
    file_level: int
    casts: int
    any: int


@dataclass(frozen=True)
class BudgetRow:
    module: str
    count: int
    budget: int
    status: str


@dataclass(frozen=True)
class RuleRow:
    code: str
    name: str
    count: int
    baselined: int = 0


def _cell(value: object) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(value).split()).replace("|", "\\|")


def environment(*directories: Path) -> Environment:
    """The environment every report renders in: markdown, strict about undefined values.
    Templates in `directories` (a caller's own reports) come before the audit's."""
    loader: BaseLoader = PackageLoader("audit", "templates")
    if directories:
        loader = ChoiceLoader([FileSystemLoader(directories), loader])
    env = Environment(
        loader=loader,
        autoescape=False,  # noqa: S701 -- markdown, not HTML: escaping would corrupt it
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.filters["cell"] = _cell
    return env


def build_reports(
    result: CheckResult,
    *,
    workspace: Workspace,
    scope: str,
    out: str,
    budget: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """The reports' contents by file name. Deterministic: no timestamps, stable order."""
    details = result.details
    assert details is not None, "Workspace.check(..., details=True) is needed for reports"
    sources = workspace.sources_of(details)
    surface = audit_calls(
        sources, result.findings, workspace.graph(details), workspace.settings, result.baselined
    )
    everything = [*result.findings, *result.baselined]
    known = surface.typed | {(f.path, f.line, f.column) for f in everything}
    candidates = find_candidates(
        {source.path: source.data for source in sources},
        default_catalogue().review_methods,
        known,
    )
    entries = [entry for coroutine in surface.coroutines for entry in coroutine.entries]
    by_code = result.by_code
    baselined = Counter(f.code for f in result.baselined)
    in_baseline = {(f.path, f.line, f.column, f.code) for f in result.baselined}
    context = {
        "scope": scope,
        "out": out,
        "version": __version__,
        "files": result.files,
        "lines": result.lines,
        "rules": [
            RuleRow(r.code, r.name, by_code.get(r.code, 0), baselined[r.code]) for r in all_rules()
        ],
        "findings_total": len(result.findings),
        "baseline_used": bool(result.baselined or result.stale),
        "baselined_total": len(result.baselined),
        "stale": len(result.stale),
        "suppressed": result.suppressed,
        "coroutines": surface.coroutines,
        "candidates": candidates,
        "blocking_count": sum(e.kind.startswith("blocking") for e in entries),
        "blocking_new": sum(e.kind == "blocking" for e in entries),
        "offloaded_count": sum(e.kind == "offloaded" for e in entries),
        "async_io_count": sum(e.kind == "async I/O" for e in entries),
        "totals": _totals(result.inventory.values()),
        "rows": _inventory_rows(result.inventory),
        "budget": budget,
        "budget_rows": _budget_rows(result.inventory, budget) if budget is not None else [],
        "mutations": [
            (f, (f.path, f.line, f.column, f.code) in in_baseline)
            for f in sorted(everything)
            if f.code.startswith(MUTATION)
        ],
        "other_reports": other_reports(Path(out)),
    }
    env = environment()
    return {name: env.get_template(f"{name}.j2").render(context) for name in REPORTS}


def other_reports(out: Path) -> list[tuple[str, str]]:
    """Every other markdown report in `out` (benchmarks, run-time profiles), each described
    as known here or else by its own title, so that the index lists whatever was written."""
    found = []
    for path in sorted(out.glob("*.md")):
        if path.name in REPORTS:
            continue
        what = RUN_TIME_REPORTS.get(path.name)
        if what is None:
            first = path.read_text(encoding="utf-8").partition("\n")[0]
            what = first.removeprefix("# ").strip() or path.stem
        found.append((path.name, what))
    return found


def write_reports(reports: Mapping[str, str], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in reports.items():
        path = out / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


@dataclass(frozen=True)
class _Totals:
    blanket: int
    coded: int
    other_checkers: int
    file_level: int
    casts: int
    any: int

    @property
    def ignores(self) -> int:
        return self.blanket + self.coded + self.other_checkers + self.file_level


def _totals(entries: Iterable[Inventory]) -> _Totals:
    items = list(entries)
    return _Totals(
        sum(i.blanket for i in items),
        sum(i.coded for i in items),
        sum(i.other_checkers for i in items),
        sum(i.file_level for i in items),
        sum(i.casts for i in items),
        sum(i.any for i in items),
    )


def _inventory_rows(inventory: Mapping[str, Inventory]) -> list[InventoryRow]:
    rows = []
    for module, entry in sorted(inventory.items()):
        if entry.ignores or entry.casts or entry.any:
            codes = ", ".join(f"{code} ({n})" for code, n in sorted(entry.codes.items()))
            rows.append(
                InventoryRow(
                    module,
                    entry.blanket,
                    entry.coded,
                    codes,
                    entry.other_checkers,
                    entry.file_level,
                    entry.casts,
                    entry.any,
                )
            )
    return rows


def _budget_rows(inventory: Mapping[str, Inventory], budget: Mapping[str, int]) -> list[BudgetRow]:
    rows = []
    for module in sorted(set(budget) | {m for m, e in inventory.items() if e.ignores}):
        count = inventory[module].ignores if module in inventory else 0
        allowed = budget.get(module, 0)
        status = "over budget" if count > allowed else "can be lowered" if count < allowed else "ok"
        rows.append(BudgetRow(module, count, allowed, status))
    return rows
