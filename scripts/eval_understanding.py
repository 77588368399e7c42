"""How well the understanding component reads labelled utterances: per command type
precision and recall, and exact match per turn, overall, per category and per domain.

The labelled sets are data (`scripts/data/understanding/*.yaml`): a domain, the day
"today" is, named conversation contexts (the active flow, what the bot asked, the slots
filled) and utterances with the commands they should give. Every backend is reached
through the `CommandGenerator` protocol (`generate(message, context)`), so the same sets
measure the rules and any other backend (`--backend`).

    python scripts/eval_understanding.py                       # print the figures
    python scripts/eval_understanding.py --json before.json    # keep them for a comparison
    python scripts/eval_understanding.py --baseline before.json --output reports/understanding.md
    python scripts/eval_understanding.py --backend hybrid --base-url http://127.0.0.1:11434/v1 \
        --model llama3.1 --json hybrid.json               # a model, through any OpenAI-
                                                          # compatible server
    python scripts/eval_understanding.py --beside hybrid.json --output reports/understanding.md

`llm` and `hybrid` are built exactly as the runtime builds them (`soni.du.backends`), so the
figures include the prompt, the schema, the validation of every reply, the normalisation of
its values and the fallback to the rules; each turn's latency and model calls are kept.

A domain key this version of soni does not know (a newer slot type or setting) is dropped
before the domain is read, and the report lists it: the sets then measure what this
version can do with the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

import soni
from harness.report import command as harness_command
from harness.report import emit, machine, render
from soni.config.models import Domain
from soni.config.understanding import UnderstandingSettings
from soni.core.types import (
    Awaiting,
    AwaitingKind,
    CommandGenerator,
    UnderstandingContext,
    Understood,
)
from soni.du.backends import open_generator

DATA = Path(__file__).with_name("data") / "understanding"
PACKAGED = {"banking": "soni.examples.banking"}
"""Domains named by package: the version of soni being measured brings its own."""
MAX_DROPS = 20

Factory = Callable[[Domain, "FixedDay", AsyncExitStack], Awaitable[CommandGenerator]]
"""Builds a backend for one domain; what it opens (a model client) closes with the stack."""


@dataclass(frozen=True)
class FixedDay:
    day: datetime.date

    def today(self) -> datetime.date:
        return self.day


async def rules(domain: Domain, clock: FixedDay, resources: AsyncExitStack) -> CommandGenerator:
    from soni.du.generator import RuleBasedCommandGenerator

    return RuleBasedCommandGenerator(domain, clock)


def configured(settings: UnderstandingSettings) -> Factory:
    """The backend `settings` name, built as the runtime builds it for a domain."""

    async def build(domain: Domain, clock: FixedDay, resources: AsyncExitStack) -> CommandGenerator:
        update = {"understanding": settings}
        domain = domain.model_copy(update={"settings": domain.settings.model_copy(update=update)})
        return await open_generator(domain, clock, resources)

    return build


BACKENDS = ("rules", "llm", "hybrid")


@dataclass(frozen=True)
class Item:
    domain: str
    split: str
    category: str
    say: str
    context: str
    expected: tuple[dict[str, Any], ...]


@dataclass
class Outcome:
    item: Item
    got: tuple[dict[str, Any], ...]
    latency_ms: float = 0.0
    model_calls: int = 0
    asked_model: bool = False
    model_answered: bool = False

    @property
    def exact(self) -> bool:
        return self.got == self.item.expected


@dataclass
class Figures:
    label: str
    version: str
    items: int = 0
    exact: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    by_split: dict[str, list[int]] = field(default_factory=dict)
    by_category: dict[str, list[int]] = field(default_factory=dict)
    by_domain: dict[str, list[int]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)
    backend: str = "rules"
    model_calls: int = 0
    model_turns: int = 0
    """Turns that asked the model."""
    model_answers: int = 0
    """Turns whose commands the model gave (the others fell back to the rules)."""
    latency_ms: dict[str, float] = field(default_factory=dict)
    """Per turn: mean, p50, p95 and max."""


# -- reading the sets --------------------------------------------------------------------------


def load_sets(
    directory: Path,
) -> list[tuple[Domain, FixedDay, list[Item], list[str], dict[str, UnderstandingContext]]]:
    sets = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        name = str(data["name"])
        domain, dropped = _domain(path, data)
        specs = dict(data.get("contexts") or {})
        if "contexts_from" in data:
            shared = yaml.safe_load((path.parent / data["contexts_from"]).read_text("utf-8"))
            specs = {**shared["contexts"], **specs}
        contexts = {key: _context(value or {}) for key, value in specs.items()}
        items = [
            Item(
                name,
                str(data.get("split", "development")),
                str(entry["category"]),
                str(entry["say"]),
                str(entry.get("in", "idle")),
                tuple(normalized(command) for command in entry["expect"]),
            )
            for entry in data["items"]
        ]
        unknown = sorted({item.context for item in items} - set(contexts))
        if unknown:
            raise SystemExit(f"{path}: unknown contexts {unknown}")
        sets.append((domain, FixedDay(data["today"]), items, dropped, contexts))
    return sets


def _domain(path: Path, data: Mapping[str, Any]) -> tuple[Domain, list[str]]:
    if "domain" not in data and "package" not in data and "contexts_from" in data:
        data = yaml.safe_load((path.parent / data["contexts_from"]).read_text("utf-8"))
    package = PACKAGED.get(str(data.get("package", "")))
    if package is not None:
        module = __import__(package, fromlist=["DOMAIN"])
        source = Path(module.DOMAIN)
    else:
        source = (path.parent / str(data["domain"])).resolve()
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    dropped: list[str] = []
    for _ in range(MAX_DROPS):
        try:
            return Domain.model_validate(raw), dropped
        except ValidationError as error:
            raw, where = _without(raw, [item["loc"] for item in error.errors()])
            if not where:
                raise
            dropped.extend(f"{source.name}: {place}" for place in where)
    raise SystemExit(f"{source}: too many keys this version of soni does not read")


def _without(original: Any, locations: Iterable[tuple[Any, ...]]) -> tuple[Any, list[str]]:
    """A copy without the deepest existing key of each location, and the dotted paths
    removed."""
    raw = copy.deepcopy(original)
    removed = []
    for location in locations:
        path = _existing(raw, location)
        parent = raw
        for part in path[:-1]:
            parent = parent[part]
        if path and isinstance(parent, dict):
            del parent[path[-1]]
            removed.append(".".join(map(str, path)))
    return raw, removed


def _existing(raw: Any, location: tuple[Any, ...]) -> list[Any]:
    """The longest start of `location` that names something in `raw`."""
    path: list[Any] = []
    node = raw
    for part in location:
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_mapping or in_list):
            break
        path.append(part)
        node = node[part]
    return path


def _context(spec: Mapping[str, Any]) -> UnderstandingContext:
    flow = spec.get("flow")
    asked = spec.get("awaiting")
    awaiting = None
    if asked:
        awaiting = Awaiting(
            kind=AwaitingKind(asked["kind"]),
            instance=f"{flow}#1" if flow else None,
            slot=asked.get("slot"),
            step=asked.get("step"),
            options=tuple(asked.get("options", ())),
        )
    slots = {key: _plain(value) for key, value in (spec.get("slots") or {}).items()}
    return UnderstandingContext(active_flow=flow, awaiting=awaiting, filled_slots=slots)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def normalized(command: Mapping[str, Any]) -> dict[str, Any]:
    """A command as compared: JSON values, defaults filled in, no free-text reason, the
    options of a clarification in order."""
    kind = command["kind"]
    result = {key: _plain(value) for key, value in command.items()}
    if kind == "start_flow":
        result["slots"] = {k: _plain(v) for k, v in (command.get("slots") or {}).items()}
    if kind == "cannot_handle":
        result = {"kind": kind}
    if kind == "clarify":
        result["options"] = sorted(command["options"])
    return result


# -- measuring ---------------------------------------------------------------------------------


async def evaluate(backend: Factory, directory: Path) -> tuple[list[Outcome], list[str]]:
    outcomes: list[Outcome] = []
    dropped: list[str] = []
    async with AsyncExitStack() as resources:
        for domain, clock, items, lost, contexts in await asyncio.to_thread(load_sets, directory):
            dropped.extend(key for key in lost if key not in dropped)
            generator = await backend(domain, clock, resources)
            for item in items:
                outcomes.append(await _read(generator, item, contexts[item.context]))
    return outcomes, dropped


async def _read(generator: CommandGenerator, item: Item, context: UnderstandingContext) -> Outcome:
    started = time.perf_counter()
    commands = await generator.generate(item.say, context)
    latency_ms = (time.perf_counter() - started) * 1000
    got = tuple(normalized(command.model_dump(mode="json")) for command in commands)
    outcome = Outcome(item, got, latency_ms)
    if isinstance(commands, Understood):
        outcome.model_calls = commands.use.model_calls
        outcome.asked_model = commands.use.model_calls > 0
        outcome.model_answered = commands.use.answered_by == "model"
    return outcome


def figures(
    label: str,
    outcomes: Sequence[Outcome],
    dropped: list[str],
    version: str | None = None,
    backend: str = "rules",
) -> Figures:
    result = Figures(label, version or _version(), dropped=dropped, backend=backend)
    kinds: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        result.items += 1
        result.exact += outcome.exact
        for key, table in (
            (outcome.item.split, result.by_split),
            (outcome.item.category, result.by_category),
            (outcome.item.domain, result.by_domain),
        ):
            row = table.setdefault(key, [0, 0])
            row[0] += outcome.exact
            row[1] += 1
        unmatched = list(outcome.got)
        for command in outcome.item.expected:
            counts = kinds.setdefault(command["kind"], Counter())
            if command in unmatched:
                unmatched.remove(command)
                counts["tp"] += 1
            else:
                counts["fn"] += 1
        for command in unmatched:
            kinds.setdefault(command["kind"], Counter())["fp"] += 1
        if not outcome.exact:
            result.misses.append(
                {
                    "domain": outcome.item.domain,
                    "split": outcome.item.split,
                    "category": outcome.item.category,
                    "context": outcome.item.context,
                    "say": outcome.item.say,
                    "expected": list(outcome.item.expected),
                    "got": list(outcome.got),
                }
            )
    result.by_kind = {kind: dict(counts) for kind, counts in sorted(kinds.items())}
    result.model_calls = sum(outcome.model_calls for outcome in outcomes)
    result.model_turns = sum(outcome.asked_model for outcome in outcomes)
    result.model_answers = sum(outcome.model_answered for outcome in outcomes)
    result.latency_ms = _latency([outcome.latency_ms for outcome in outcomes])
    return result


def _latency(times: Sequence[float]) -> dict[str, float]:
    if not times:
        return {}
    ordered = sorted(times)
    shares = {"p50": 0.5, "p95": 0.95}
    result = {"mean": statistics.fmean(ordered)}
    result.update(
        {name: ordered[min(len(ordered) - 1, int(q * len(ordered)))] for name, q in shares.items()}
    )
    result["max"] = ordered[-1]
    return {name: round(value, 3) for name, value in result.items()}


def _version() -> str:
    root = Path(soni.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"soni at {root.name} ({commit})"


# -- reporting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    count: int
    cells: tuple[str, ...]


def _rate(hits: int, total: int) -> str:
    return f"{hits / total:.1%}" if total else "-"


def _shares(table: str, runs: Sequence[Figures]) -> list[Row]:
    latest: dict[str, list[int]] = getattr(runs[-1], table)
    return [
        Row(
            key, latest[key][1], tuple(_rate(*getattr(run, table).get(key, [0, 0])) for run in runs)
        )
        for key in sorted(latest)
    ]


def _kinds(runs: Sequence[Figures]) -> list[Row]:
    rows = []
    for kind in sorted({kind for run in runs for kind in run.by_kind}):
        cells: list[str] = []
        for run in runs:
            counts = run.by_kind.get(kind, {})
            tp, fp, fn = counts.get("tp", 0), counts.get("fp", 0), counts.get("fn", 0)
            cells += [_rate(tp, tp + fp), _rate(tp, tp + fn)]
        latest = runs[-1].by_kind.get(kind, {})
        rows.append(Row(kind, latest.get("tp", 0) + latest.get("fn", 0), tuple(cells)))
    return rows


def _commands(commands: Iterable[Mapping[str, Any]]) -> str:
    parts = []
    for command in commands:
        arguments = ", ".join(f"{k}={v!r}" for k, v in command.items() if k != "kind")
        parts.append(f"{command['kind']}({arguments})")
    return "; ".join(parts) or "nothing"


@dataclass(frozen=True)
class Cost:
    """What a run's turns cost: model calls and latency."""

    label: str
    backend: str
    calls_per_turn: str
    asked: str
    answered: str
    fell_back: str
    latency: str


def _cost(label: str, run: Figures) -> Cost:
    latency = run.latency_ms
    shown = " / ".join(f"{latency[k]:.2f}" for k in ("p50", "p95", "max")) if latency else "-"
    asked = run.model_turns
    return Cost(
        label,
        run.backend,
        f"{run.model_calls / run.items:.2f}" if run.items else "-",
        _rate(asked, run.items),
        _rate(run.model_answers, asked),
        _rate(asked - run.model_answers, asked),
        shown,
    )


def report(
    after: Figures, before: Figures | None, command: str, beside: Sequence[Figures] = ()
) -> str:
    """Markdown: `before` (an earlier run), the runs `beside` (other backends) and `after`
    (this run), each a column."""
    runs = [*([before] if before is not None else []), *beside, after]
    labels = [
        *(["before"] if before is not None else []),
        *(run.label for run in beside),
        "after" if before is not None else after.label,
    ]
    everything = Row("all", after.items, tuple(_rate(run.exact, run.items) for run in runs))
    return render(
        "understanding.md.j2",
        date=datetime.date.today().isoformat(),
        machine=machine(),
        command=command,
        labels=labels,
        runs=runs,
        after=after,
        splits=[*_shares("by_split", runs), everything],
        categories=_shares("by_category", runs),
        domains=_shares("by_domain", runs),
        kinds=_kinds(runs),
        costs=[_cost(label, run) for label, run in zip(labels, runs, strict=True)],
        models=[run for run in runs if run.backend != "rules"],
        misses=[
            {**miss, "expected": _commands(miss["expected"]), "got": _commands(miss["got"])}
            for miss in after.misses
        ],
    )


def _backend(args: argparse.Namespace) -> Factory:
    if args.backend == "rules":
        return rules
    if not args.base_url:
        raise SystemExit(f"--backend {args.backend} needs --base-url (an OpenAI-compatible API)")
    return configured(
        UnderstandingSettings(
            backend=args.backend,
            model=args.model,
            base_url=args.base_url,
            api_key_env=args.api_key_env,
            timeout_s=args.timeout,
            response_format=args.response_format,
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="directory of labelled sets")
    parser.add_argument("--backend", choices=BACKENDS, default="rules")
    parser.add_argument("--base-url", help="llm/hybrid: the server's OpenAI-compatible API root")
    parser.add_argument("--model", default="default", help="llm/hybrid: the model's name")
    parser.add_argument("--api-key-env", help="llm/hybrid: the variable holding the API key")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per model call")
    parser.add_argument(
        "--response-format", choices=("json_schema", "json_object", "none"), default="json_schema"
    )
    parser.add_argument(
        "--beside",
        type=Path,
        action="append",
        default=[],
        help="figures (JSON) of another backend's run, shown as a column before this one",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--baseline", type=Path, help="figures (JSON) of an earlier run to compare")
    parser.add_argument("--output", type=Path, help="write the markdown report here")
    parser.add_argument(
        "--code", help="what the measured code is, for the report (default: its git commit)"
    )
    args = parser.parse_args(argv)
    outcomes, dropped = asyncio.run(evaluate(_backend(args), args.data))
    after = figures(args.backend, outcomes, dropped, args.code, args.backend)
    before = _figures(args.baseline) if args.baseline else None
    beside = [_figures(path) for path in args.beside]
    command = harness_command("scripts/eval_understanding.py", sys.argv[1:])
    text = report(after, before, command, beside)
    emit(text, args.output)
    if args.json:
        args.json.write_text(
            json.dumps(asdict(after), indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    return 0


def _figures(path: Path) -> Figures:
    return Figures(**json.loads(path.read_text(encoding="utf-8")))


if __name__ == "__main__":
    raise SystemExit(main())
