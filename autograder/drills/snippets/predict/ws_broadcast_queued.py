"""Chat rooms: each member has a bounded queue and a sender task of its own; publishing only
puts the message in each queue. A member whose queue is full leaves the room."""

import asyncio
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

QUEUE_SIZE = 8

app = FastAPI()
rooms: dict[str, dict[WebSocket, tuple[asyncio.Queue[str], asyncio.Task]]] = defaultdict(dict)


class Message(BaseModel):
    text: str


async def sender(ws: WebSocket, queue: asyncio.Queue[str]) -> None:
    while True:
        await ws.send_text(await queue.get())


@app.websocket("/ws/{room}")
async def join(ws: WebSocket, room: str):
    await ws.accept()
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
    rooms[room][ws] = (queue, asyncio.create_task(sender(ws, queue)))
    try:
        while True:
            await ws.receive_text()  # members only listen; this notices when they leave
    except WebSocketDisconnect:
        pass
    finally:
        if ws in rooms[room]:
            rooms[room].pop(ws)[1].cancel()


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    for ws, (queue, task) in list(rooms[room].items()):
        try:
            queue.put_nowait(message.text)
        except asyncio.QueueFull:  # too far behind: out of the room, its sender stopped
            rooms[room].pop(ws)
            task.cancel()  # (the exercise ws-broadcast also closes its connection)
    return {"members": len(rooms[room])}
