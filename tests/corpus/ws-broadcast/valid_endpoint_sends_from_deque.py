"""Valid: each member's endpoint is its own sender: publishing appends to the member's
deque and wakes it; a member more than ``LIMIT`` messages behind is disconnected (1008)."""

import asyncio
from collections import defaultdict, deque

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

LIMIT = 50

app = FastAPI()


class Member:
    def __init__(self) -> None:
        self.pending: deque[str] = deque()
        self.wake = asyncio.Event()
        self.too_slow = False


rooms: dict[str, dict[WebSocket, Member]] = defaultdict(dict)


class Message(BaseModel):
    text: str


@app.websocket("/ws/{room}")
async def join(ws: WebSocket, room: str):
    await ws.accept()
    me = Member()
    rooms[room][ws] = me

    async def listen() -> None:
        try:
            while True:
                await ws.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            pass
        me.wake.set()

    listener = asyncio.create_task(listen())
    try:
        while not listener.done() and not me.too_slow:
            await me.wake.wait()
            me.wake.clear()
            while me.pending and not me.too_slow:
                await ws.send_text(me.pending.popleft())
    except Exception:
        pass
    finally:
        rooms[room].pop(ws, None)
        listener.cancel()
    if me.too_slow:
        try:
            await ws.close(code=1008, reason="too slow")
        except Exception:
            pass


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room].items())
    for ws, me in members:
        if len(me.pending) >= LIMIT:
            me.too_slow = True
            me.pending.clear()
            rooms[room].pop(ws, None)
        else:
            me.pending.append(message.text)
        me.wake.set()
    return {"members": len(members)}
