"""Deterministic actions for the test domain (sync and async, one that fails)."""

import asyncio


async def check_limits(amount):
    return {"over_limit": amount > 1000}


async def execute_transfer(amount=None, beneficiary=None):
    await asyncio.sleep(0)
    return {"tx_id": f"TX-{beneficiary}-{int(amount or 0)}"}


def sync_lookup(account):
    return {"balance": {"checking": 2500.0, "savings": 12000.0}[account]}


async def add_item(count, item):
    return {"count": (count or 0) + 1}


async def explode():
    raise RuntimeError("boom")


def vague():
    result = {"other": 1}
    return result  # its keys are not known before it runs
