"""The type-ignore budget: a committed count per module that may only go down.

`check --budget FILE` fails when a module has more ignores (TIG100/101/103/104: every
comment or decorator that silences a type checker) than the file allows; modules absent
from the file are allowed none. `--write-budget` writes the current counts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FORMAT_VERSION = 1


class BudgetError(Exception):
    """The budget file is missing or malformed (the message names it)."""


@dataclass(frozen=True)
class BudgetCheck:
    exceeded: tuple[tuple[str, int, int], ...]  # (module, count, allowed)
    tighter: tuple[tuple[str, int, int], ...]  # below budget: the file can be lowered

    def to_json(self) -> dict[str, object]:
        return {
            "exceeded": [{"module": m, "count": c, "budget": b} for m, c, b in self.exceeded],
            "can_tighten": [{"module": m, "count": c, "budget": b} for m, c, b in self.tighter],
        }


def read_budget(path: Path) -> dict[str, int]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BudgetError(f"{path}: no such budget file (create it with --write-budget)") from error
    except (OSError, ValueError) as error:
        raise BudgetError(f"{path}: not a budget file: {error}") from error
    modules = document.get("modules") if isinstance(document, dict) else None
    if not isinstance(modules, dict) or not all(
        isinstance(count, int) and count >= 0 for count in modules.values()
    ):
        raise BudgetError(f'{path}: expected {{"version": 1, "modules": {{"module": count}}}}')
    return {str(module): int(count) for module, count in modules.items()}


def write_budget(path: Path, counts: Mapping[str, int]) -> None:
    document = {
        "version": FORMAT_VERSION,
        "modules": {module: count for module, count in sorted(counts.items()) if count},
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def compare(budget: Mapping[str, int], counts: Mapping[str, int]) -> BudgetCheck:
    exceeded = []
    tighter = []
    for module in sorted(set(budget) | set(counts)):
        count, allowed = counts.get(module, 0), budget.get(module, 0)
        if count > allowed:
            exceeded.append((module, count, allowed))
        elif count < allowed:
            tighter.append((module, count, allowed))
    return BudgetCheck(tuple(exceeded), tuple(tighter))
