"""Live scores: every update posted to a match goes to each fan watching it.

Wrong fix: a fan who misses the send deadline is taken out of the room, so it gets no
later update, but its connection is left open: when it reads again it finds the updates
sent before, then silence, and nothing tells it to reconnect and catch up.
"""

import asyncio
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

SEND_DEADLINE = 0.5

app = FastAPI()
rooms: dict[str, list[WebSocket]] = defaultdict(list)


class Message(BaseModel):
    text: str


@app.get("/health")
async def health():
    return {"ok": True}


@app.websocket("/ws/{room}")
async def join(ws: WebSocket, room: str):
    await ws.accept()
    rooms[room].append(ws)
    try:
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if ws in rooms[room]:
            rooms[room].remove(ws)


async def deliver(room: str, ws: WebSocket, text: str) -> None:
    try:
        async with asyncio.timeout(SEND_DEADLINE):
            await ws.send_text(text)
    except Exception:
        if ws in rooms[room]:
            rooms[room].remove(ws)


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    async with asyncio.TaskGroup() as tg:
        for ws in members:
            tg.create_task(deliver(room, ws, message.text))
    return {"members": len(members)}
