"""What the project pass records of a function: where it lives, and the chain by which it
blocks."""

from __future__ import annotations

from dataclasses import dataclass

from audit.core.facts import FunctionFacts, Leaf


@dataclass(frozen=True)
class Blocked:
    """A sync function that blocks: the chain of functions down to the one making the
    blocking call (both ends included), the ordinal of the call each of them makes to the
    next (`calls[i]` is in `chain[i]`), and the blocking call. `condition` is, for a chain
    through conditional calls, the first of them: the function making it and why."""

    chain: tuple[str, ...]
    calls: tuple[int, ...]
    leaf: Leaf
    condition: tuple[str, str] | None = None
    every_path: bool = False
    """Judged with a call's arguments, the chain is one of several: each path left open
    blocks (`if ca_certs: load_verify_locations() else: load_default_certs()`)."""


@dataclass(frozen=True)
class Located:
    """Where a function lives: the file and the module it belongs to."""

    path: str
    module: str
    facts: FunctionFacts
