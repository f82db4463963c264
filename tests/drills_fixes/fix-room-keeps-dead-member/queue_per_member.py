"""Live scores: every update posted to a match goes to each fan watching it.

A valid fix: each fan has a bounded queue and a sender task of its own; publishing only
puts the update in each queue. A fan whose queue is full has fallen behind for good: it
leaves the room and its connection is closed (1008), so it reconnects and catches up.
"""

import asyncio
import contextlib
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

QUEUE_SIZE = 32

app = FastAPI()


class Fan:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.gone = asyncio.Event()

    async def send_updates(self) -> None:
        try:
            while True:
                await self.ws.send_text(await self.queue.get())
        except Exception:
            self.gone.set()

    async def listen(self) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await self.ws.receive_text()
        self.gone.set()


rooms: dict[str, set[Fan]] = defaultdict(set)


class Message(BaseModel):
    text: str


@app.get("/health")
async def health():
    return {"ok": True}


@app.websocket("/ws/{room}")
async def join(ws: WebSocket, room: str):
    await ws.accept()
    fan = Fan(ws)
    rooms[room].add(fan)
    tasks = [asyncio.create_task(fan.send_updates()), asyncio.create_task(fan.listen())]
    try:
        await fan.gone.wait()
    finally:
        rooms[room].discard(fan)
        for t in tasks:
            t.cancel()
        # the close frame waits behind what the fan has not read; only this fan waits
        with contextlib.suppress(Exception):
            await ws.close(code=1008, reason="too slow")


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    fans = list(rooms[room])
    for fan in fans:
        try:
            fan.queue.put_nowait(message.text)
        except asyncio.QueueFull:
            rooms[room].discard(fan)
            fan.gone.set()
    return {"members": len(fans)}
