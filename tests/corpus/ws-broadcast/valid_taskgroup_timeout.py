"""Valid: one TaskGroup per broadcast, each send under ``asyncio.timeout``; a member that
misses the deadline is taken out of the room and its endpoint closes it (1008)."""

import asyncio
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

DEADLINE = 0.25

app = FastAPI()


class Member:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.dropped = asyncio.Event()


rooms: dict[str, set[Member]] = defaultdict(set)


class Message(BaseModel):
    text: str


@app.websocket("/ws/{room}")
async def join(ws: WebSocket, room: str):
    await ws.accept()
    me = Member(ws)
    rooms[room].add(me)

    async def listen() -> None:
        try:
            while True:
                await ws.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            pass

    listening = asyncio.create_task(listen())
    dropped = asyncio.create_task(me.dropped.wait())
    try:
        await asyncio.wait({listening, dropped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        rooms[room].discard(me)
        listening.cancel()
        dropped.cancel()
    if me.dropped.is_set():
        try:
            await ws.close(code=1008, reason="too slow")
        except Exception:
            pass


async def deliver(room: str, member: Member, text: str) -> None:
    try:
        async with asyncio.timeout(DEADLINE):
            await member.ws.send_text(text)
    except Exception:  # too slow, or gone: either way, out of the room
        rooms[room].discard(member)
        member.dropped.set()


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    async with asyncio.TaskGroup() as tg:
        for member in members:
            tg.create_task(deliver(room, member, message.text))
    return {"members": len(members)}
