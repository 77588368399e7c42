"""Which rules are enabled: `select`/`ignore` selectors are codes or prefixes (`BLK`, `BLK1`);
an opt-in rule (BLK105) only by its exact code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class SelectionError(ValueError):
    def __init__(self, selector: str) -> None:
        super().__init__(f"unknown rule selector '{selector}' (see `soni-audit rules`)")
        self.selector = selector


def _known_codes() -> tuple[str, ...]:
    from audit.rules import RULE_CODES

    return RULE_CODES


def _opt_in_codes() -> frozenset[str]:
    from audit.rules import OPT_IN_CODES

    return OPT_IN_CODES


def matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def validate(selectors: Iterable[str], extra_codes: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Normalised selectors; raises SelectionError for one that matches no rule."""
    known = (*_known_codes(), *extra_codes)
    result = []
    for raw in selectors:
        selector = raw.strip().upper()
        if not any(matches(selector, code) for code in known):
            raise SelectionError(raw)
        result.append(selector)
    return tuple(result)


@dataclass(frozen=True)
class RuleSelection:
    enabled: frozenset[str]

    @classmethod
    def build(
        cls,
        *,
        select: Iterable[str],
        extend_select: Iterable[str] = (),
        ignore: Iterable[str] = (),
        extra_codes: tuple[str, ...] = (),
        opt_in: bool = True,
    ) -> RuleSelection:
        """With `opt_in`, an opt-in rule is enabled only by its exact code; without, it is
        selected like any other (which rules may be fixed, for instance)."""
        chosen = validate([*select, *extend_select], extra_codes)
        dropped = validate(ignore, extra_codes)
        exact_only = _opt_in_codes() if opt_in else frozenset()
        enabled = {
            code
            for code in (*_known_codes(), *extra_codes)
            if any(s == code if code in exact_only else matches(s, code) for s in chosen)
            and not any(matches(s, code) for s in dropped)
        }
        return cls(frozenset(enabled))

    def __contains__(self, code: object) -> bool:
        return code in self.enabled
