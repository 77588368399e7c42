"""The LangGraph graph of one turn: understand -> manage -> respond.

Checkpointed state is JSON only (the dialogue, the commands, the messages); the services
that cannot be serialised (the understanding component, the engine and its actions) reach
the nodes through LangGraph's runtime context, never through the state.
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


class GraphState(TypedDict, total=False):
    user_message: str
    dialogue: dict[str, Any]
    commands: list[dict[str, Any]]
    messages: list[str]
    failures: list[dict[str, str]]
    reply: str


@dataclass(frozen=True)
class Services:
    generator: CommandGenerator
    engine: DialogueEngine


async def understand(state: GraphState, runtime: Runtime[Services]) -> GraphState:
    dialogue = DialogueState.from_json(state.get("dialogue"))
    runtime.context.engine.check_state(dialogue)
    commands = await runtime.context.generator.generate(
        state["user_message"], understanding_context(dialogue)
    )
    return {"commands": dump_commands(commands)}


async def manage(state: GraphState, runtime: Runtime[Services]) -> GraphState:
    dialogue = DialogueState.from_json(state.get("dialogue"))
    outcome = await runtime.context.engine.run_turn(
        dialogue, state["user_message"], load_commands(state.get("commands", []))
    )
    return {
        "dialogue": outcome.state.to_json(),
        "messages": list(outcome.messages),
        "failures": [asdict(failure) for failure in outcome.failures],
    }


async def respond(state: GraphState, runtime: Runtime[Services]) -> GraphState:
    return {"reply": "\n".join(state.get("messages", []))}


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
