"""Multi-turn conversations through the real LangGraph graph and a real SQLite checkpointer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from soni.config import SoniConfig
from soni.runtime import RuntimeLoop
from tests.soni.conftest import FixedClock, talk

COMPLETION = "Is there anything else I can help you with?"


async def test_happy_path_transfer(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "I want to send money", "Bob", "50 dollars", "yes")
    assert replies == [
        "Who should receive it?",
        "How much?",
        "Send 50.00 to Bob?",
        f"Done, reference TX-Bob-50.\n{COMPLETION}",
    ]
    state = await runtime.get_state("u1")
    assert state is not None
    assert (state.active_flow, state.stack, state.turn) == (None, (), 4)


async def test_trigger_captures_fill_slots(runtime: RuntimeLoop) -> None:
    result = await runtime.process_message("u1", "Transfer $75 to Alice")
    assert (result.reply, result.active_flow) == ("Send 75.00 to Alice?", "transfer_funds")
    assert result.slots == {"amount": 75, "beneficiary": "Alice", "over_limit": False}


async def test_correction_at_the_confirmation_reruns_the_checks(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "transfer 50 to Bob", "actually make it 2000")
    assert replies == [
        "Send 50.00 to Bob?",
        f"Okay, I've changed the amount to 2,000.00.\nThat is over your limit.\n{COMPLETION}",
    ]


async def test_no_with_a_new_value_at_the_confirmation_is_a_correction(
    runtime: RuntimeLoop,
) -> None:
    replies = await talk(runtime, "u1", "transfer 50 to Bob", "no, make it 60", "yes")
    assert replies == [
        "Send 50.00 to Bob?",
        "Okay, I've changed the amount to 60.00.\nSend 60.00 to Bob?",
        f"Done, reference TX-Bob-60.\n{COMPLETION}",
    ]


async def test_correction_before_confirming(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "send money", "Bob", "50", "actually make it 60", "yes")
    assert replies[3] == "Okay, I've changed the amount to 60.00.\nSend 60.00 to Bob?"
    assert replies[4] == f"Done, reference TX-Bob-60.\n{COMPLETION}"


async def test_cancel_a_flow(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "send money", "Bob", "cancel")
    assert replies[2] == "Okay, I've cancelled send money to someone."
    assert (await runtime.get_state("u1")).active_flow is None
    assert await talk(runtime, "u1", "cancel") == ["There is nothing to cancel."]


async def test_digression_and_resume(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "send money", "Bob", "what is my balance", "savings", "20")
    assert replies[2] == "Which account?"
    assert replies[3] == (
        "Your savings balance is 12,000.00.\nLet's get back to send money to someone.\nHow much?"
    )
    assert replies[4] == "Send 20.00 to Bob?"
    state = await runtime.get_state("u1")
    assert state is not None
    assert state.stack == ("transfer_funds",)
    assert state.slots == {"beneficiary": "Bob", "amount": 20, "over_limit": False}


async def test_loop_body_runs_its_action_say_and_set_steps_each_time(runtime: RuntimeLoop) -> None:
    replies = await talk(
        runtime, "u1", "shopping list", "milk", "yes", "eggs", "yes", "bread", "no"
    )
    assert replies == [
        "What should I add?",
        "Added milk, 1 so far.\nAnything else?",
        "What should I add?",
        "Added eggs, 2 so far.\nAnything else?",
        "What should I add?",
        "Added bread, 3 so far.\nAnything else?",
        f"Your list has 3 items.\n{COMPLETION}",
    ]


async def test_confirm_no_with_on_deny_goes_there(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "transfer 10 to Bob", "no")
    assert replies[1] == f"Transfer cancelled.\n{COMPLETION}"


async def test_confirm_no_without_on_deny_cancels_and_runs_nothing(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "close my account", "no")
    assert replies == ["Really close your account?", "Okay, I've cancelled close your account."]
    yes = await talk(runtime, "u2", "close my account", "yes")
    assert yes[1] == f"Account closed (TX-None-0).\n{COMPLETION}"


async def test_call_returns_to_the_caller_with_its_slots(runtime: RuntimeLoop) -> None:
    first = await runtime.process_message("u1", "get started")
    assert first.reply == "Welcome.\nWhat is your name?"
    state = await runtime.get_state("u1")
    assert state is not None
    assert state.stack == ("onboarding", "identity")
    second = await runtime.process_message("u1", "Ada")
    assert second.reply == f"Thanks Ada.\nVerified Ada, you are all set.\n{COMPLETION}"
    assert (await runtime.get_state("u1")).stack == ()


async def test_link_replaces_the_current_flow(runtime: RuntimeLoop) -> None:
    first = await runtime.process_message("u1", "identity desk")
    assert first.reply == "Sending you to the identity desk.\nWhat is your name?"
    state = await runtime.get_state("u1")
    assert state is not None
    assert state.stack == ("identity",)
    assert (await runtime.process_message("u1", "Ada")).reply == f"Thanks Ada.\n{COMPLETION}"


async def test_failing_action_apologises_and_leaves_a_consistent_state(
    runtime: RuntimeLoop,
) -> None:
    replies = await talk(runtime, "u1", "send money", "Bob", "break it")
    assert replies[2] == (
        "Sorry, something went wrong while I was working on run the broken action, so I had to "
        "stop it.\nLet's get back to send money to someone.\nHow much?"
    )
    state = await runtime.get_state("u1")
    assert state is not None
    assert state.stack == ("transfer_funds",)
    assert await talk(runtime, "u1", "30", "yes") == [
        "Send 30.00 to Bob?",
        f"Done, reference TX-Bob-30.\n{COMPLETION}",
    ]


async def test_repair_commands(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "hello", "help", "send money", "asdf qwer", "Bob")
    assert replies[0] == "Hello! How can I help you?"
    assert replies[1].startswith("I can help you with: send money to someone, check your balance")
    assert replies[2] == "Who should receive it?"
    assert replies[3] == "How much?"  # free text is the answer when text is expected
    handoff = await runtime.process_message("u2", "I want to talk to a human")
    assert handoff.reply == "I'll connect you with a human agent."


async def test_out_of_range_values_are_rejected_and_asked_again(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "send money", "Bob", "0", "200000", "12")
    assert replies[2] == "That is below the minimum of 0.01.\nHow much?"
    assert replies[3] == "That is above the maximum of 100,000.00.\nHow much?"
    assert replies[4] == "Send 12.00 to Bob?"


async def test_skip_uses_the_default_or_refuses(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "place an order", "skip", "next friday", "skip")
    assert replies[1] == "I need an answer to this one to continue.\nWhen should it ship?"
    assert replies[2] == "Any note?"
    assert replies[3] == f"Order ships 2026-11-27 (note: none).\n{COMPLETION}"


async def test_clarification_between_flows(runtime: RuntimeLoop, config: SoniConfig) -> None:
    replies = await talk(runtime, "u1", "transfer my balance")
    assert replies == ["Did you mean check your balance or send money to someone?"]
    chosen = await runtime.process_message("u1", "the second one")
    assert (chosen.reply, chosen.active_flow) == ("Who should receive it?", "transfer_funds")
    other = await talk(runtime, "u2", "transfer my balance", "check your balance")
    assert other[1] == "Which account?"


async def test_restart_on_the_same_database_continues(config: SoniConfig, domain_dir: Path) -> None:
    async with RuntimeLoop(config, clock=FixedClock()) as first:
        await talk(first, "u1", "send money", "Bob")
    assert (domain_dir / "state" / "soni.db").is_file()
    async with RuntimeLoop(config, clock=FixedClock()) as second:
        assert await talk(second, "u1", "40", "yes") == [
            "Send 40.00 to Bob?",
            f"Done, reference TX-Bob-40.\n{COMPLETION}",
        ]


async def test_reset_state_forgets_the_conversation(runtime: RuntimeLoop) -> None:
    await talk(runtime, "u1", "send money", "Bob")
    await runtime.reset_state("u1")
    assert await runtime.get_state("u1") is None
    assert await talk(runtime, "u1", "50") == ["Sorry, I didn't understand that."]


async def test_messages_of_one_user_are_serialised(runtime: RuntimeLoop) -> None:
    await runtime.process_message("u1", "shopping list")
    items = [f"item{i}" for i in range(10)]
    answers = await asyncio.gather(
        *(
            runtime.process_message("u1", text)
            for pair in zip(items, ["yes"] * 10, strict=False)
            for text in pair
        )
    )
    state = await runtime.get_state("u1")
    assert state is not None
    assert state.turn == 21
    assert [a.turn for a in answers] == sorted(a.turn for a in answers)
    await runtime.pruner.settled()  # a prune due after a turn holds the user's lock too
    assert runtime.active_users == 0


async def test_different_users_run_concurrently(runtime: RuntimeLoop) -> None:
    users = [f"user{i}" for i in range(20)]
    results = await asyncio.gather(
        *(runtime.process_message(u, f"transfer {i + 1} to Bob") for i, u in enumerate(users))
    )
    assert [r.slots["amount"] for r in results] == [i + 1 for i in range(20)]
    for user in users:
        state = await runtime.get_state(user)
        assert state is not None
        assert state.turn == 1


async def test_runtime_used_outside_its_context_says_so(config: SoniConfig) -> None:
    from soni.runtime import RuntimeNotReady

    loop = RuntimeLoop(config)
    with pytest.raises(RuntimeNotReady, match="async with RuntimeLoop"):
        await loop.process_message("u1", "hello")


async def test_two_requests_in_one_message_run_one_after_the_other(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "what is my balance and send money", "savings")
    assert replies == [
        "Which account?",
        "Your savings balance is 12,000.00.\nNow, let's send money to someone.\n"
        "Who should receive it?",
    ]
    state = await runtime.get_state("u1")
    assert state is not None
    assert state.stack == ("transfer_funds",)


async def test_a_request_after_an_answer_waits_for_the_flow_it_answers(
    runtime: RuntimeLoop,
) -> None:
    replies = await talk(runtime, "u1", "transfer 50 to Bob", "yes, and check my balance")
    assert replies[1] == (
        "Done, reference TX-Bob-50.\nNow, let's check your balance.\nWhich account?"
    )


async def test_repeat_says_the_last_question_again(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "send money", "can you repeat that?", "Bob")
    assert replies == ["Who should receive it?", "Who should receive it?", "How much?"]
    assert await talk(runtime, "u2", "repeat") == ["I haven't asked you anything yet."]


async def test_handoff_ends_the_flows_and_the_state_says_so(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "send money", "Bob", "I want to talk to a human")
    assert replies[2] == "I'll connect you with a human agent."
    state = await runtime.get_state("u1")
    assert state is not None
    assert (state.handoff, state.stack, state.active_flow, state.awaiting) == (True, (), None, None)
    assert await talk(runtime, "u1", "50") == ["Sorry, I didn't understand that."]


async def test_restating_a_request_corrects_it_and_reruns_the_checks(runtime: RuntimeLoop) -> None:
    replies = await talk(runtime, "u1", "transfer 50 to Bob", "transfer 2000 to Bob")
    assert replies[1] == (
        f"Okay, I've changed the amount to 2,000.00.\nThat is over your limit.\n{COMPLETION}"
    )


async def test_out_of_scope_and_over_long_answers(runtime: RuntimeLoop) -> None:
    assert await talk(runtime, "u1", "tell me a joke") == ["Sorry, I can't help with that."]
    replies = await talk(runtime, "u2", "send money", "x" * 2500, "Bob")
    assert replies[1] == "That is too long: at most 200 characters, please.\nWho should receive it?"
    assert replies[2] == "How much?"


async def test_an_output_key_the_action_did_not_return_stops_the_flow(runtime: RuntimeLoop) -> None:
    result = await runtime.process_message("u1", "be vague")
    assert result.reply.startswith("Sorry, something went wrong while I was working on run the")
    (failure,) = result.failures
    assert failure.action == "vague"
    assert "returned no 'ref'" in failure.message
    assert result.active_flow is None
