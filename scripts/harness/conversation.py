"""The banking example's conversation every soni benchmark replays, round and round."""

from __future__ import annotations

CONVERSATION = ("hi", "what is my balance", "checking", "send 20 to Bob", "yes")
"""Three of its five turns run an action against the example's own SQLite database."""


def message(n: int) -> str:
    """The `n`th message (from 0), the conversation starting over after its last."""
    return CONVERSATION[n % len(CONVERSATION)]
