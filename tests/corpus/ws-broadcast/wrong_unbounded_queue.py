"""Wrong: a queue and a sender task per member, as in the fix, but the queue is unbounded:
publishing never waits, and the stalled member's backlog grows for as long as it stalls."""
# expect-fail: stalled-dropped, memory

import asyncio
import contextlib
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

app = FastAPI()


class Member:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue()  # no maxsize
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


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room])
    for m in members:
        m.queue.put_nowait(message.text)
    return {"members": len(members)}
