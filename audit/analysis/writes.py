"""What a write to a parameter is: its syntactic kind, what the parameter's annotation says,
and what the write does to the caller's object. Plain enums, free of libcst, so that the MUT
rules can claim writes without loading the parser."""

from __future__ import annotations

import enum


class MutationKind(enum.Enum):
    """How a write is spelled."""

    ATTRIBUTE = "attribute"  # `p.a = v`, `del p.a`
    ITEM = "item"  # `p[k] = v`, `del p[k]`
    METHOD = "method"  # `p.append(v)`
    FUNCTION = "function"  # `f(p, ...)`: which function is resolved later
    AUGMENTED = "augmented"  # `p += v`


class Shape(enum.Enum):
    """What an annotation says about a parameter's mutability."""

    IMMUTABLE = "immutable"
    MUTABLE = "mutable container"
    READ_ONLY = "read-only container"
    OTHER = "other type"
    UNKNOWN = "unknown"


class Effect(enum.Enum):
    """What a write does to the caller's object, once names are resolved."""

    SET_ATTRIBUTE = "sets or deletes an attribute"
    STORE_ITEM = "stores or deletes an item"
    MUTATING_CALL = "calls a mutating method or function"
    IN_PLACE = "extends it in place"
