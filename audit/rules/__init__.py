"""The rules, one module each, and the one registry of them.

A rule's module is named after its code (`blk100_blocking_call.py` holds BLK100), so the
registry finds the rules by listing the package and reads their codes from the module names:
selecting rules and filtering cached findings never imports a rule, and adding a rule touches
nothing but its module. The rule classes are loaded on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.analysis.facts import Facts
    from audit.rules.base import Rule

# Rule families, by the prefix their codes share (also a selector: `--select BLK`), in the
# order rules are listed.
BLOCKING, TYPE_IGNORES, MUTATION, AUDIT = "BLK", "TIG", "MUT", "AUD"
FAMILIES = (BLOCKING, TYPE_IGNORES, MUTATION, AUDIT)
_RULE_MODULE = re.compile(r"^(?P<family>[a-z]{3})(?P<number>\d{3})_\w+$")


def _rule_modules() -> tuple[str, ...]:
    """The modules of this package named like a rule (`blk100_blocking_call`), by family
    and number: adding a rule is adding its module."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        match = _RULE_MODULE.match(module.name)
        if match is not None and match["family"].upper() in FAMILIES:
            family = FAMILIES.index(match["family"].upper())
            found.append((family, match["number"], module.name))
    return tuple(name for *_, name in sorted(found))


RULE_MODULES = _rule_modules()
RULE_CODES = tuple(module.partition("_")[0].upper() for module in RULE_MODULES)
# Rules enabled only when their exact code is selected (`ALL` or a prefix does not do it):
# they report what a project may choose to see, not what the default set stands behind.
OPT_IN_CODES = frozenset({"BLK105"})


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


@cache
def needed_facts() -> Facts:
    """The kinds of fact some rule reads: what a file's walk records."""
    return frozenset().union(*(rule.needs for rule in all_rules()))


def rule_named(code: str) -> type[Rule] | None:
    return next((rule for rule in all_rules() if rule.code == code), None)


def precedence() -> dict[str, frozenset[str]]:
    """For each rule, the rules it yields to at a site they share."""
    return {rule.code: rule.yields_to for rule in all_rules()}
