"""Receipts of keyed turns, kept in the conversation's checkpoint: a message sent again
with the same idempotency key is answered from its receipt, never applied twice.

The receipt is written in the same checkpoint as the turn it describes, so the two cannot
disagree: after a crash, a restart or on another replica sharing the database, the turn
is either there with its receipt or not there at all. Receipts are JSON, like the rest of
the state, and bounded: the last `keep` keys younger than `ttl_s` seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from soni.errors import SoniError

DAY_S = 24 * 3600.0


@dataclass(frozen=True)
class ReceiptPolicy:
    ttl_s: float = DAY_S
    """How long a key is remembered (a retry after that runs the turn again)."""
    keep: int = 8
    """At most this many keys per user: a client retries its latest messages, not old ones."""

    def __post_init__(self) -> None:
        if self.ttl_s <= 0 or self.keep < 1:
            raise ValueError("a receipt policy needs ttl_s > 0 and keep >= 1")


class Request(TypedDict):
    """What the graph is told of a keyed message."""

    key: str
    digest: str
    at: float
    """Wall-clock seconds (`time.time()`) when the message arrived."""


class Answer(TypedDict):
    """What a turn answered: returned now, and kept in the receipt of a keyed message."""

    reply: str
    messages: list[str]
    failures: list[dict[str, str]]
    turn: int
    active_flow: str | None
    slots: dict[str, Any]


class Receipt(Request, Answer):
    """A keyed message and what its turn answered."""


class IdempotencyKeyReused(SoniError):
    """The key of an applied message came again with a different message."""

    def __init__(self, user_id: str, key: str, turn: int) -> None:
        self.user_id = user_id
        self.key = key
        self.turn = turn
        super().__init__(
            f"idempotency key {key!r} of user {user_id!r} was used for a different message "
            f"(turn {turn}); send a new key for a new message"
        )


def digest(message: str) -> str:
    """What identifies a message's content (the user is the conversation's own)."""
    return hashlib.sha256(message.encode("utf-8")).hexdigest()


def request(key: str, message: str, at: float) -> Request:
    return {"key": key, "digest": digest(message), "at": at}


def find(receipts: Sequence[Receipt], asked: Request, policy: ReceiptPolicy) -> Receipt | None:
    """The live receipt of `asked`'s key, if any (whatever its digest: the caller compares)."""
    oldest = asked["at"] - policy.ttl_s
    return next(
        (r for r in reversed(receipts) if r["key"] == asked["key"] and r["at"] >= oldest), None
    )


def kept(receipts: Sequence[Receipt], new: Receipt, policy: ReceiptPolicy) -> list[Receipt]:
    """`receipts` with `new` added, the expired and the surplus (oldest first) dropped."""
    oldest = new["at"] - policy.ttl_s
    live = [r for r in receipts if r["at"] >= oldest and r["key"] != new["key"]]
    return [*live, new][-policy.keep :]
