"""Flows to programs. Pure: the configuration is read, never changed, and compiling the same
configuration twice, or from several threads at once, gives equal programs.

Every instruction names its successor: a step's `next`, else the following step, else
`end`. A `while` becomes a guard that enters its body or goes to `exit`; the last step of
the body jumps back to the guard, so action, say and set steps run again on each pass.
"""

from __future__ import annotations

from collections.abc import Mapping

from soni.compiler.program import (
    Assign,
    Branch,
    CallFlow,
    Collect,
    Confirm,
    Instruction,
    LinkFlow,
    LoopGuard,
    Program,
    Programs,
    RunAction,
    Say,
)
from soni.config.models import END, BranchCase, Domain, Flow, Step, StepKind
from soni.core.conditions import parse_condition


def compile_domain(domain: Domain) -> Programs:
    return Programs(tuple(compile_flow(name, flow) for name, flow in domain.flows.items()))


def compile_flow(name: str, flow: Flow) -> Program:
    successors = _successors(flow)
    steps = tuple((step.id, _instruction(step, successors, flow)) for step in flow.steps)
    return Program(name, flow.description, flow.steps[0].id, steps)


def _successors(flow: Flow) -> Mapping[str, str]:
    """Where each step goes when it simply moves on."""
    linear: dict[str, str] = {}
    for index, step in enumerate(flow.steps):
        following = flow.steps[index + 1].id if index + 1 < len(flow.steps) else END
        linear[step.id] = step.next if step.next is not None else following
    for step in flow.steps:
        if step.kind is StepKind.WHILE:
            body = step.do
            explicit = {s.id for s in flow.steps if s.next is not None}
            for position, member in enumerate(body):
                if member in explicit:
                    continue  # an explicit `next` leaves the loop on purpose
                linear[member] = body[position + 1] if position + 1 < len(body) else step.id
    return linear


def _instruction(step: Step, successors: Mapping[str, str], flow: Flow) -> Instruction:
    following = successors[step.id]
    kind = step.kind
    if kind is StepKind.COLLECT:
        assert step.collect is not None
        return Collect(step.collect, following)
    if kind is StepKind.SAY:
        assert step.say is not None
        return Say(step.say, following)
    if kind is StepKind.ACTION:
        assert step.action is not None
        return RunAction(step.action, tuple(sorted(step.outputs.items())), following)
    if kind is StepKind.SET:
        assert step.assign is not None
        return Assign(tuple(step.assign.items()), following)
    if kind is StepKind.BRANCH:
        assert step.branch is not None
        cases = tuple(
            (parse_condition(case.condition), case.then)
            for case in step.branch
            if isinstance(case, BranchCase)
        )
        otherwise = next(
            (case.otherwise for case in step.branch if not isinstance(case, BranchCase)),
            following,
        )
        return Branch(cases, otherwise)
    if kind is StepKind.WHILE:
        assert step.loop is not None
        assert step.exit is not None
        body = set(step.do)
        resets = tuple(s.collect for s in flow.steps if s.id in body and s.collect is not None)
        return LoopGuard(parse_condition(step.loop), step.do[0], step.exit, resets)
    if kind is StepKind.CONFIRM:
        assert step.confirm is not None
        return Confirm(step.confirm, following, step.on_deny)
    if kind is StepKind.CALL:
        assert step.call is not None
        return CallFlow(step.call, following)
    assert step.link is not None
    return LinkFlow(step.link)
