"""The rules, one module each, and the one registry of them.

A rule's module is named after its code (`blk100_blocking_call.py` holds BLK100), so the
registry reads the codes from the module names: selecting rules and filtering cached
findings never imports a rule. The rule classes are loaded on first use.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.rules.base import Rule

RULE_MODULES = (
    "blk100_blocking_call",
    "blk101_blocking_method",
    "blk102_sync_twin",
    "blk103_transitive_blocking",
    "blk104_configured_blocking",
    "blk105_conditional_blocking",
    "tig100_blanket_ignore",
    "tig101_coded_ignore",
    "tig102_unused_ignore",
    "tig103_other_checker_ignore",
    "tig104_file_level_escape",
    "mut100_attribute_store",
    "mut101_item_store",
    "mut102_mutating_call",
    "mut103_augmented_assignment",
    "mut104_alias_mutation",
    "aud100_unused_noqa",
    "aud900_parse_error",
    "aud901_internal_error",
)
RULE_CODES = tuple(module.partition("_")[0].upper() for module in RULE_MODULES)
# Rules enabled only when their exact code is selected (`ALL` or a prefix does not do it):
# they report what a project may choose to see, not what the default set stands behind.
OPT_IN_CODES = frozenset({"BLK105"})

# Rule families, by the prefix their codes share (also a selector: `--select BLK`).
BLOCKING, TYPE_IGNORES, MUTATION = "BLK", "TIG", "MUT"


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class, in code order: the one rule each module defines."""
    from audit.rules.base import Rule

    found = []
    for name in RULE_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        (rule,) = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Rule)
            and value.__module__ == module.__name__
        ]
        found.append(rule)
    return tuple(found)


@cache
def file_rules() -> tuple[Rule, ...]:
    """One instance of every rule, for the checks."""
    return tuple(rule() for rule in all_rules())


def rule_named(code: str) -> type[Rule] | None:
    return next((rule for rule in all_rules() if rule.code == code), None)


def precedence() -> dict[str, frozenset[str]]:
    """For each rule, the rules it yields to at a site they share."""
    return {rule.code: rule.yields_to for rule in all_rules()}
