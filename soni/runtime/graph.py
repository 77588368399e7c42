"""The LangGraph graph of one turn: understand -> manage -> respond.

Checkpointed state is JSON only (the dialogue, the commands, the messages, the receipts of
keyed messages); the services that cannot be serialised (the understanding component, the
engine and its actions) reach the nodes through LangGraph's runtime context, never through
the state. A message whose idempotency key has a receipt crosses the graph without running
the turn: `replay` carries the receipt out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from soni.core.commands import dump_commands, load_commands
from soni.core.state import DialogueState
from soni.core.types import CommandGenerator
from soni.runtime.engine import DialogueEngine, understanding_context
from soni.runtime.receipts import Receipt, ReceiptPolicy, Request, find, kept


class GraphState(TypedDict, total=False):
    user_message: str
    dialogue: dict[str, Any]
    commands: list[dict[str, Any]]
    messages: list[str]
    failures: list[dict[str, str]]
    reply: str
    request: Request | None
    """The idempotency key of this message, if it has one (input)."""
    receipts: list[Receipt]
    replay: Receipt | None
    """The receipt this message was answered from, or None when its turn ran (output)."""


@dataclass(frozen=True)
class Services:
    generator: CommandGenerator
    engine: DialogueEngine
    receipts: ReceiptPolicy


async def understand(state: GraphState, runtime: Runtime[Services]) -> GraphState:
    asked = state.get("request")
    if asked is not None:
        seen = find(state.get("receipts", []), asked, runtime.context.receipts)
        if seen is not None:
            return {"commands": [], "replay": seen}
    dialogue = DialogueState.from_json(state.get("dialogue"))
    runtime.context.engine.check_state(dialogue)
    commands = await runtime.context.generator.generate(
        state["user_message"], understanding_context(dialogue)
    )
    return {"commands": dump_commands(commands), "replay": None}


async def manage(state: GraphState, runtime: Runtime[Services]) -> GraphState:
    if state.get("replay") is not None:
        return {}
    dialogue = DialogueState.from_json(state.get("dialogue"))
    outcome = await runtime.context.engine.run_turn(
        dialogue, state["user_message"], load_commands(state.get("commands", []))
    )
    update: GraphState = {
        "dialogue": outcome.state.to_json(),
        "messages": list(outcome.messages),
        "failures": [asdict(failure) for failure in outcome.failures],
    }
    asked = state.get("request")
    if asked is not None:
        receipt: Receipt = {
            **asked,
            "reply": _reply(update["messages"]),
            "messages": update["messages"],
            "failures": update["failures"],
            "turn": outcome.state.turn,
            "active_flow": outcome.state.active_flow,
            "slots": outcome.state.active_slots,
        }
        update["receipts"] = kept(state.get("receipts", []), receipt, runtime.context.receipts)
    return update


async def respond(state: GraphState, runtime: Runtime[Services]) -> GraphState:
    if state.get("replay") is not None:
        return {}
    return {"reply": _reply(state.get("messages", []))}


def _reply(messages: list[str]) -> str:
    return "\n".join(messages)


def build_graph() -> StateGraph[GraphState, Services, GraphState, GraphState]:
    graph = StateGraph(GraphState, context_schema=Services)
    graph.add_node("understand", understand)
    graph.add_node("manage", manage)
    graph.add_node("respond", respond)
    graph.add_edge(START, "understand")
    graph.add_edge("understand", "manage")
    graph.add_edge("manage", "respond")
    graph.add_edge("respond", END)
    return graph
