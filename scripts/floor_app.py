"""The floor `scripts/loadtest.py` measures soni against: a bare FastAPI endpoint doing one
aiosqlite write and commit per request, served by the same uvicorn and driven by the same
closed loop. What soni costs is its figures over these.

    FLOOR_DB=/tmp/floor.db uvicorn --factory floor_app:create --app-dir scripts
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite
from fastapi import FastAPI, Request
from pydantic import BaseModel


class Message(BaseModel):
    user_id: str
    message: str


class Reply(BaseModel):
    reply: str
    turn: int


def create() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with aiosqlite.connect(os.environ["FLOOR_DB"]) as db:
            await db.execute("create table if not exists turns (user_id text, message text)")
            await db.commit()
            app.state.db = db
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/chat")
    async def chat(body: Message, request: Request) -> Reply:
        db: aiosqlite.Connection = request.app.state.db
        cursor = await db.execute("insert into turns values (?, ?)", (body.user_id, body.message))
        await db.commit()
        return Reply(reply="ok", turn=cursor.lastrowid or 0)

    return app
