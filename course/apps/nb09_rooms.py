"""Notebook 09: chat rooms over WebSockets, the same room written three ways.

- ``WS /ws/{way}/{room}`` joins a room; ``POST /rooms/{way}/{room}/messages`` with
  ``{"text": ...}`` sends the text to every member and answers 202. ``way``:

  - ``inline``: the publish awaits each member's ``send_text`` in turn (the
    ``ws-broadcast`` starter's broadcast; a member whose send fails is removed);
  - ``unbounded``: a queue and a sender task per member; the publish only enqueues. The
    queue has no bound: a member that stops reading keeps every later message alive;
  - ``bounded``: the same with ``QUEUE`` slots; a member whose queue is full is closed
    (1008) and removed, never waited for.

- ``GET /health``: an ``async def`` endpoint.
- ``GET /lab/rooms`` (the lesson's bookkeeping): members per room, messages queued for
  them now, publishes still in progress, members dropped.
"""

import asyncio
import contextlib
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

QUEUE = 16  # bounded: messages a member may be behind before it is dropped

app = FastAPI()


class Member:
    def __init__(self, ws: WebSocket, bound: int) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=bound)
        self.gone = asyncio.Event()

    async def sender(self) -> None:
        try:
            while True:
                await self.ws.send_text(await self.queue.get())
        except Exception:
            self.gone.set()


rooms: dict[tuple[str, str], list[Member]] = defaultdict(list)
state = {"publishing": 0, "dropped": 0}


class Message(BaseModel):
    text: str


@app.get("/health")
async def health():
    return {"ok": True}


@app.get("/lab/rooms")
async def lab_rooms():
    return {
        "members": {f"{w}/{r}": len(ms) for (w, r), ms in rooms.items()},
        "queued": sum(m.queue.qsize() for ms in rooms.values() for m in ms),
        **state,
    }


async def listen(member: Member) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await member.ws.receive_text()  # members only listen; this notices they left
    member.gone.set()


@app.websocket("/ws/{way}/{room}")
async def join(ws: WebSocket, way: str, room: str):
    await ws.accept()
    member = Member(ws, QUEUE if way == "bounded" else 0)
    rooms[way, room].append(member)
    tasks = [asyncio.create_task(listen(member))]
    if way != "inline":
        tasks.append(asyncio.create_task(member.sender()))
    try:
        await member.gone.wait()
    finally:
        if member in rooms[way, room]:
            rooms[way, room].remove(member)
        for t in tasks:
            t.cancel()
        with contextlib.suppress(Exception):  # reaches a stalled member only if it reads again
            await ws.close(code=1008, reason="too slow")


@app.post("/rooms/{way}/{room}/messages", status_code=202)
async def publish(way: str, room: str, message: Message):
    members = list(rooms[way, room])
    state["publishing"] += 1
    try:
        for m in members:
            if way == "inline":
                try:
                    await m.ws.send_text(message.text)  # waits while this member's buffer is full
                except Exception:
                    m.gone.set()
            else:
                try:
                    m.queue.put_nowait(message.text)
                except asyncio.QueueFull:  # bounded: behind by QUEUE messages, dropped
                    rooms[way, room].remove(m)
                    state["dropped"] += 1
                    m.gone.set()
    finally:
        state["publishing"] -= 1
    return {"members": len(members)}
