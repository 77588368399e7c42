"""The dialogue runtime: the engine, the LangGraph graph and `RuntimeLoop`."""

from soni.runtime.loop import RuntimeLoop, RuntimeNotReady, TurnResult, UserState

__all__ = ["RuntimeLoop", "RuntimeNotReady", "TurnResult", "UserState"]
