"""Whole-configuration checks: every reference must resolve, every expression parse.

Each problem is reported with the file and line of the field at fault; all problems of a
configuration are collected, not just the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from soni.config.actions import Action
from soni.config.models import END, BranchCase, Domain, Flow, Step, StepKind
from soni.config.understanding import client_problem
from soni.core.conditions import parse_condition
from soni.core.templates import TemplateError, template_fields
from soni.errors import ConditionError, ConfigError

Location = Callable[[tuple[str | int, ...]], tuple[str, int]]
_CAPTURE = re.compile(r"\{([^{}]*)\}")


def check_domain(
    domain: Domain, locate: Location, actions: Mapping[str, Action]
) -> list[ConfigError]:
    problems: list[ConfigError] = []

    def report(path: tuple[str | int, ...], message: str) -> None:
        file, line = locate(path)
        problems.append(ConfigError(message, file=file, line=line, field=field_name(path)))

    slot_names = frozenset(domain.slots)
    for name, flow in domain.flows.items():
        base: tuple[str | int, ...] = ("flows", name)
        for message, path in _check_flow(flow, slot_names, frozenset(domain.flows), actions):
            report((*base, *path), message)
    for name, slot in domain.slots.items():
        for field, text in (("prompt", slot.prompt), ("rejection", slot.rejection)):
            if text is not None:
                for message in _template_problems(text, slot_names):
                    report(("slots", name, field), message)
    missing = client_problem(domain.settings.understanding)
    if missing is not None:
        report(("settings", "understanding", "backend"), missing)
    return problems


def field_name(path: tuple[str | int, ...]) -> str:
    """`flows.pay.steps[1].next` for ("flows", "pay", "steps", 1, "next")."""
    text = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path)
    return text.replace(".[", "[")


def _check_flow(
    flow: Flow, slots: frozenset[str], flows: frozenset[str], actions: Mapping[str, Action]
) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    ids = [step.id for step in flow.steps]
    seen: set[str] = set()
    for index, step in enumerate(flow.steps):
        if step.id in seen:
            yield f"duplicate step id {step.id!r}", ("steps", index, "id")
        if step.id == END:
            yield f"{END!r} is reserved for the end of the flow", ("steps", index, "id")
        seen.add(step.id)
    targets = frozenset(ids) | {END}
    outputs = frozenset(slot for step in flow.steps for slot in step.outputs.values())
    known = slots | outputs
    for index, step in enumerate(flow.steps):
        for message, field in _check_step(step, targets, slots, known, flows, actions):
            yield message, ("steps", index, *field)
    for position, phrase in enumerate(flow.trigger.phrases):
        for capture in _CAPTURE.findall(phrase):
            if capture not in slots:
                yield (
                    f"phrase captures unknown slot {{{capture}}}",
                    ("trigger", "phrases", position),
                )


def _check_step(
    step: Step,
    targets: frozenset[str],
    slots: frozenset[str],
    known: frozenset[str],
    flows: frozenset[str],
    actions: Mapping[str, Action],
) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    if step.next is not None and step.next not in targets:
        yield f"unknown step {step.next!r}", ("next",)
    kind = step.kind
    if kind is StepKind.COLLECT and step.collect not in slots:
        yield f"unknown slot {step.collect!r}", ("collect",)
    elif kind is StepKind.ACTION:
        action = actions.get(step.action or "")
        if action is None:
            registered = ", ".join(sorted(actions)) or "none (set settings.actions)"
            yield f"unregistered action {step.action!r} (registered: {registered})", ("action",)
        else:
            yield from _action_fits(action, step, slots)
        for key, slot in step.outputs.items():
            if slot not in slots:
                yield f"unknown slot {slot!r}", ("outputs", key)
    elif kind is StepKind.SET:
        assert step.assign is not None
        for slot in step.assign:
            if slot not in slots:
                yield f"unknown slot {slot!r}", ("set", slot)
    elif kind is StepKind.BRANCH:
        assert step.branch is not None
        for position, case in enumerate(step.branch):
            if isinstance(case, BranchCase):
                yield from _condition(case.condition, known, ("branch", position, "if"))
                if case.then not in targets:
                    yield f"unknown step {case.then!r}", ("branch", position, "then")
            elif case.otherwise not in targets:
                yield f"unknown step {case.otherwise!r}", ("branch", position, "else")
    elif kind is StepKind.WHILE:
        assert step.loop is not None
        yield from _condition(step.loop, known, ("while",))
        for position, body in enumerate(step.do):
            if body not in targets or body == END:
                yield f"unknown step {body!r}", ("do", position)
            elif body == step.id:
                yield "a loop cannot contain itself", ("do", position)
        if step.exit not in targets:
            yield f"unknown step {step.exit!r}", ("exit",)
    elif kind is StepKind.CONFIRM:
        if step.on_deny is not None and step.on_deny not in targets:
            yield f"unknown step {step.on_deny!r}", ("on_deny",)
    elif kind in (StepKind.CALL, StepKind.LINK):
        target = step.call if kind is StepKind.CALL else step.link
        if target not in flows:
            yield f"unknown flow {target!r}", (kind.value,)
    for field, text in (("say", step.say), ("confirm", step.confirm)):
        if text is not None:
            for message in _template_problems(text, known):
                yield message, (field,)


def _action_fits(
    action: Action, step: Step, slots: frozenset[str]
) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """An action receives slots by parameter name and its keys fill `outputs`: a parameter
    no slot is named after would always be None, a key it never returns leaves a slot
    empty."""
    if not action.takes_all_slots:
        for parameter in action.parameters:
            if parameter not in slots:
                yield (
                    f"action {action.name!r} takes {parameter!r}, which is not a slot "
                    "(an action receives the slots its parameters are named after)",
                    ("action",),
                )
    if action.returns is not None:
        returned = ", ".join(sorted(action.returns)) or "nothing"
        for key in step.outputs:
            if key not in action.returns:
                yield (
                    f"action {action.name!r} never returns {key!r} (it returns: {returned})",
                    ("outputs", key),
                )


def _condition(
    source: str, known: frozenset[str], path: tuple[str | int, ...]
) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    try:
        condition = parse_condition(source)
    except ConditionError as error:
        yield f"bad condition: {error}", path
        return
    for name in sorted(condition.slots - known):
        yield f"condition {source!r} reads unknown slot {name!r}", path


def _template_problems(text: str, known: frozenset[str]) -> Iterator[str]:
    try:
        fields = template_fields(text)
    except TemplateError as error:
        yield str(error)
        return
    for name in sorted(fields - known):
        yield f"text {text!r} uses unknown slot {{{name}}}"
