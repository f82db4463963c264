"""Wrong: each send has a deadline, but a member that misses it stays in the room: every
later message waits the deadline for it again, and it is never told it lost messages."""
# expect-fail: stalled-dropped

import asyncio
import logging
from collections import defaultdict

from fastapi import FastAPI, WebSocket
from pydantic import BaseModel

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
            await ws.receive_text()  # members only listen; this notices when they leave
    finally:
        if ws in rooms[room]:
            rooms[room].remove(ws)


async def deliver(ws: WebSocket, text: str) -> None:
    try:
        await asyncio.wait_for(ws.send_text(text), 0.5)
    except Exception as exc:
        logging.warning("slow member skipped: %r", exc)


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    await asyncio.gather(*(deliver(ws, message.text) for ws in members))
    return {"members": len(members)}
