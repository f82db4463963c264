"""Wrong: a lock around the whole broadcast (to keep messages in order), concurrent sends
inside it, no deadline: one stalled member holds the lock, and every later message waits."""
# expect-fail: latency, publish, stalled-dropped

import asyncio
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


lock = asyncio.Lock()


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    async with lock:
        members = list(rooms[room])
        await asyncio.gather(
            *(ws.send_text(message.text) for ws in members), return_exceptions=True
        )
    return {"members": len(members)}
