"""The compiler: pure, deterministic, and `while` compiled to a guard with a jump back."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

from soni.compiler import compile_domain
from soni.compiler.program import Branch, Collect, Confirm, LinkFlow, LoopGuard, RunAction, Say
from soni.config import SoniConfig


def test_compiling_never_changes_the_configuration(config: SoniConfig) -> None:
    before = copy.deepcopy(config.domain.model_dump())
    compile_domain(config.domain)
    compile_domain(config.domain)
    assert config.domain.model_dump() == before


def test_compiling_twice_or_concurrently_gives_equal_programs(config: SoniConfig) -> None:
    first = compile_domain(config.domain)
    with ThreadPoolExecutor(max_workers=8) as pool:
        others = list(pool.map(lambda _: compile_domain(config.domain), range(32)))
    assert all(other == first for other in others)
    assert compile_domain(config.domain) == first


def test_while_becomes_a_guard_and_the_body_jumps_back(config: SoniConfig) -> None:
    program = compile_domain(config.domain)["shopping"]
    guard = program.instruction("loop")
    assert isinstance(guard, LoopGuard)
    assert (guard.body, guard.exit, guard.resets) == ("ask", "summary", ("item", "more"))
    assert guard.condition.source == "more != false"
    assert program.instruction("ask") == Collect("item", "add")
    assert isinstance(program.instruction("add"), RunAction)
    assert isinstance(program.instruction("told"), Say)
    assert program.instruction("again") == Collect("more", "loop")  # back to the guard


def test_successors_branch_confirm_and_link(config: SoniConfig) -> None:
    programs = compile_domain(config.domain)
    transfer = programs["transfer_funds"]
    assert transfer.start == "who"
    gate = transfer.instruction("gate")
    assert isinstance(gate, Branch)
    assert [target for _, target in gate.cases] == ["too_much"]
    assert gate.otherwise == "confirm"
    assert transfer.instruction("confirm") == Confirm(
        "Send {amount} to {beneficiary}?", "send", "cancelled"
    )
    assert transfer.instruction("done") == Say("Done, reference {tx_id}.", "end")
    assert programs["delete_account"].instruction("sure") == Confirm(
        "Really close your account?", "close", None
    )
    assert programs["handover"].instruction("go") == LinkFlow("identity")
    assert transfer.instruction("end") is None
