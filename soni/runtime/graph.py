"""The LangGraph graph of a turn: one node, `turn`, that understands the message, runs the
dialogue engine on it and writes the reply.

One node, not three (understand -> manage -> respond): every superstep of LangGraph's Pregel
loop costs about as much bookkeeping as soni's own work in it (see FACTS), and the three
steps never run apart: a turn is checkpointed whole or not at all (`durability="exit"`).

Checkpointed state is JSON only and as small as the turn needs: the dialogue and the
receipts of keyed messages persist; `inbox` carries the message in and `outcome` the answer
out. The services that cannot be serialised (the understanding component, the engine and
its actions) reach the node through LangGraph's runtime context, never through the state.
A message whose idempotency key has a receipt crosses the graph without running the turn:
its answer is the receipt's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from soni.core.state import DialogueState
from soni.core.types import CommandGenerator
from soni.runtime.engine import DialogueEngine, understanding_context
from soni.runtime.receipts import Answer, Receipt, ReceiptPolicy, Request, find, kept


class Inbox(TypedDict):
    message: str
    request: Request | None
    """The idempotency key of the message, if it has one."""


class Outcome(TypedDict):
    answer: Answer
    replayed: bool
    """Answered from the receipt of an earlier message with the same key."""
    conflict: bool
    """That earlier message was another one: the key was reused (the caller refuses it)."""


class GraphState(TypedDict, total=False):
    inbox: Inbox
    dialogue: dict[str, Any]
    receipts: list[Receipt]
    outcome: Outcome


@dataclass(frozen=True)
class Services:
    generator: CommandGenerator
    engine: DialogueEngine
    receipts: ReceiptPolicy


async def turn(state: GraphState, runtime: Runtime[Services]) -> GraphState:
    services = runtime.context
    inbox = state["inbox"]
    asked = inbox["request"]
    receipts = state.get("receipts", [])
    if asked is not None:
        seen = find(receipts, asked, services.receipts)
        if seen is not None:
            conflict = seen["digest"] != asked["digest"]
            return {"outcome": {"answer": seen, "replayed": True, "conflict": conflict}}
    dialogue = DialogueState.from_json(state.get("dialogue"))
    services.engine.check_state(dialogue)
    commands = await services.generator.generate(inbox["message"], understanding_context(dialogue))
    done = await services.engine.run_turn(dialogue, inbox["message"], commands)
    messages = list(done.messages)
    answer: Answer = {
        "reply": "\n".join(messages),
        "messages": messages,
        "failures": [asdict(failure) for failure in done.failures],
        "turn": done.state.turn,
        "active_flow": done.state.active_flow,
        "slots": done.state.active_slots,
    }
    update: GraphState = {
        "dialogue": done.state.to_json(),
        "outcome": {"answer": answer, "replayed": False, "conflict": False},
    }
    if asked is not None:
        receipt: Receipt = {**asked, **answer}
        update["receipts"] = kept(receipts, receipt, services.receipts)
    return update


def build_graph() -> StateGraph[GraphState, Services, GraphState, GraphState]:
    graph = StateGraph(GraphState, context_schema=Services)
    graph.add_node("turn", turn)
    graph.add_edge(START, "turn")
    graph.add_edge("turn", END)
    return graph
