"""Fix 2: send to every member at once, each send with a deadline; a member that misses
it is removed from the room and closed (1008) in the background."""

import asyncio
import contextlib
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

SEND_DEADLINE = 0.5

app = FastAPI()
rooms: dict[str, list[WebSocket]] = defaultdict(list)
closing: set[asyncio.Task] = set()


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


def drop(room: str, ws: WebSocket) -> None:
    if ws in rooms[room]:
        rooms[room].remove(ws)
        task = asyncio.create_task(close_quietly(ws))
        closing.add(task)
        task.add_done_callback(closing.discard)


async def close_quietly(ws: WebSocket) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code=1008, reason="too slow")


async def deliver(room: str, ws: WebSocket, text: str) -> None:
    try:
        await asyncio.wait_for(ws.send_text(text), SEND_DEADLINE)
    except Exception:  # too slow, or gone
        drop(room, ws)


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    await asyncio.gather(*(deliver(room, ws, message.text) for ws in members))
    return {"members": len(members)}
