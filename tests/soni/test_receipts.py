"""Idempotency keys in the runtime: a retried message is answered from its receipt, never
applied twice; receipts expire, are bounded, and belong to one user's conversation."""

from __future__ import annotations

import pytest

from soni.config import SoniConfig
from soni.runtime import IdempotencyKeyReused, ReceiptPolicy, RuntimeLoop
from soni.runtime.receipts import Receipt, Request, find, kept, request
from tests.soni.conftest import FixedClock


def receipt(key: str, at: float, message: str = "hi") -> Receipt:
    return {
        **request(key, message, at),
        "reply": "r",
        "messages": ["r"],
        "failures": [],
        "turn": 1,
        "active_flow": None,
        "slots": {},
    }


POLICY = ReceiptPolicy(ttl_s=10, keep=3)


@pytest.mark.parametrize(
    ("stored", "asked", "found"),
    [
        ([], request("a", "hi", 100), None),
        ([receipt("a", 95)], request("a", "hi", 100), "a"),
        ([receipt("a", 95)], request("a", "other message", 100), "a"),  # the caller compares
        ([receipt("a", 89)], request("a", "hi", 100), None),  # expired
        ([receipt("a", 95)], request("b", "hi", 100), None),
    ],
)
def test_find(stored: list[Receipt], asked: Request, found: str | None) -> None:
    hit = find(stored, asked, POLICY)
    assert (hit["key"] if hit else None) == found


@pytest.mark.parametrize(
    ("stored", "new", "keys"),
    [
        ([], receipt("a", 100), ["a"]),
        ([receipt("a", 95), receipt("b", 96)], receipt("c", 100), ["a", "b", "c"]),
        ([receipt(k, 95) for k in "abc"], receipt("d", 100), ["b", "c", "d"]),  # the surplus
        ([receipt("a", 80), receipt("b", 95)], receipt("c", 100), ["b", "c"]),  # the expired
        ([receipt("a", 95), receipt("b", 96)], receipt("a", 100), ["b", "a"]),  # renewed
    ],
)
def test_kept(stored: list[Receipt], new: Receipt, keys: list[str]) -> None:
    assert [r["key"] for r in kept(stored, new, POLICY)] == keys


@pytest.mark.parametrize(("ttl_s", "keep"), [(0, 1), (-1, 1), (10, 0)])
def test_a_policy_must_keep_something(ttl_s: float, keep: int) -> None:
    with pytest.raises(ValueError, match="ttl_s > 0 and keep >= 1"):
        ReceiptPolicy(ttl_s=ttl_s, keep=keep)


async def test_a_retry_is_answered_without_running_the_turn(config: SoniConfig) -> None:
    async with RuntimeLoop(config, clock=FixedClock()) as runtime:
        first = await runtime.process_message("ann", "transfer 40 to Bob", idempotency_key="k1")
        again = await runtime.process_message("ann", "transfer 40 to Bob", idempotency_key="k1")
        assert (first.replayed, again.replayed) == (False, True)
        assert (again.reply, again.turn, again.slots) == (first.reply, first.turn, first.slots)
        state = await runtime.get_state("ann")
        assert state is not None
        assert state.turn == 1
        with pytest.raises(IdempotencyKeyReused, match=r"'k1' of user 'ann'.*different message"):
            await runtime.process_message("ann", "yes", idempotency_key="k1")
        after = await runtime.process_message("ann", "yes", idempotency_key="k2")
        assert (after.turn, after.replayed) == (2, False)
        assert after.reply.startswith("Done, reference")
        # the replayed receipt is the first turn's, though the conversation moved on
        late = await runtime.process_message("ann", "transfer 40 to Bob", idempotency_key="k1")
        assert (late.turn, late.reply, late.replayed) == (1, first.reply, True)


async def test_without_a_key_every_message_is_a_turn(config: SoniConfig) -> None:
    async with RuntimeLoop(config, clock=FixedClock()) as runtime:
        turns = [(await runtime.process_message("bo", "hello")).turn for _ in range(3)]
        assert turns == [1, 2, 3]


async def test_keys_belong_to_one_user_and_the_oldest_are_dropped(config: SoniConfig) -> None:
    policy = ReceiptPolicy(keep=2)
    async with RuntimeLoop(config, clock=FixedClock(), receipts=policy) as runtime:
        for n in range(3):
            await runtime.process_message("cy", "hello", idempotency_key=f"k{n}")
        other = await runtime.process_message("di", "hello", idempotency_key="k2")
        assert (other.turn, other.replayed) == (1, False)
        assert (await runtime.process_message("cy", "hello", idempotency_key="k2")).replayed
        dropped = await runtime.process_message("cy", "hello", idempotency_key="k0")
        assert (dropped.turn, dropped.replayed) == (4, False)
