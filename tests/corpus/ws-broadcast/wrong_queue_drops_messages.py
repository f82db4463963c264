"""Wrong: a bounded queue per member, but when it is full the message is dropped and the
member kept: memory stays bounded, yet the member silently misses messages, never told."""
# expect-fail: stalled-dropped

import asyncio
import contextlib
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

QUEUE_SIZE = 64

app = FastAPI()


class Member:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.gone = asyncio.Event()

    async def sender(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                await self.ws.send_text(text)
        except Exception:
            self.gone.set()


rooms: dict[str, set[Member]] = defaultdict(set)


class Message(BaseModel):
    text: str


@app.get("/health")
async def health():
    return {"ok": True}


async def listen(member: Member) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await member.ws.receive_text()
    member.gone.set()


@app.websocket("/ws/{room}")
async def join(ws: WebSocket, room: str):
    await ws.accept()
    member = Member(ws)
    rooms[room].add(member)
    tasks = [asyncio.create_task(member.sender()), asyncio.create_task(listen(member))]
    try:
        await member.gone.wait()
    finally:
        rooms[room].discard(member)
        for t in tasks:
            t.cancel()
        # the close frame waits for the socket to drain: a stalled member gets it when
        # (if ever) it reads again; nothing else waits for it
        with contextlib.suppress(Exception):
            await ws.close(code=1008, reason="too slow")


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    for m in members:
        try:
            m.queue.put_nowait(message.text)
        except asyncio.QueueFull:
            pass  # too slow: this one skips the message
    return {"members": len(members)}
