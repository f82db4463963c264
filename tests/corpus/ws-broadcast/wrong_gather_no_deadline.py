"""Wrong: sends to every member at once, but waits for all of them with no deadline: each
publish hangs on the stalled member forever (and never drops it)."""
# expect-fail: publish, stalled-dropped, memory

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


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    await asyncio.gather(*(ws.send_text(message.text) for ws in members), return_exceptions=True)
    return {"members": len(members)}
