"""Live scores: every update posted to a match goes to each fan watching it. A fan whose
phone does not take an update within half a second has fallen behind for good: it leaves
the room at once, and its connection is closed (1008) in the background, so it reconnects
and catches up instead of silently missing updates."""

import asyncio
import contextlib
import logging
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

SEND_DEADLINE = 0.5

app = FastAPI()
log = logging.getLogger("scores")
rooms: dict[str, list[WebSocket]] = defaultdict(list)
closing: set[asyncio.Task[None]] = set()  # held, so the loop does not lose them


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
            await ws.receive_text()  # fans only listen; this notices when they leave
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if ws in rooms[room]:
            rooms[room].remove(ws)


async def close_quietly(ws: WebSocket) -> None:
    # the close frame waits behind what the fan has not read: never await it in publish
    with contextlib.suppress(Exception):
        await ws.close(code=1008, reason="too slow")


def drop(room: str, ws: WebSocket) -> None:
    if ws in rooms[room]:
        rooms[room].remove(ws)
        task = asyncio.create_task(close_quietly(ws))
        closing.add(task)
        task.add_done_callback(closing.discard)


async def deliver(room: str, ws: WebSocket, text: str) -> None:
    try:
        async with asyncio.timeout(SEND_DEADLINE):
            await ws.send_text(text)
    except Exception:  # too slow, or already gone
        log.warning("a fan fell behind: dropped")
        drop(room, ws)


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    async with asyncio.TaskGroup() as tg:
        for ws in members:
            tg.create_task(deliver(room, ws, message.text))
    return {"members": len(members)}
