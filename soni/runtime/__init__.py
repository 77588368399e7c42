"""The dialogue runtime: the engine, the LangGraph graph and `RuntimeLoop`."""

from soni.runtime.loop import RuntimeLoop, RuntimeNotReady, TurnResult, UserState
from soni.runtime.receipts import IdempotencyKeyReused, ReceiptPolicy

__all__ = [
    "IdempotencyKeyReused",
    "ReceiptPolicy",
    "RuntimeLoop",
    "RuntimeNotReady",
    "TurnResult",
    "UserState",
]
