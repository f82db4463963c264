"""Live scores: every update posted to a match goes to each fan watching it. A fan whose
phone does not take an update within half a second is skipped, so nobody waits for them."""

import asyncio
import logging
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

SEND_DEADLINE = 0.5

app = FastAPI()
log = logging.getLogger("scores")
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
            await ws.receive_text()  # fans only listen; this notices when they leave
    except WebSocketDisconnect:
        pass
    finally:
        if ws in rooms[room]:
            rooms[room].remove(ws)


async def deliver(ws: WebSocket, text: str) -> None:
    try:
        async with asyncio.timeout(SEND_DEADLINE):
            await ws.send_text(text)
    except TimeoutError:
        log.warning("a fan is too slow: update skipped")


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    async with asyncio.TaskGroup() as tg:
        for ws in members:
            tg.create_task(deliver(ws, message.text))
    return {"members": len(members)}
