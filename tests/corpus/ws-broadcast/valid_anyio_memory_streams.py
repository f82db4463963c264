"""Valid: an AnyIO memory object stream (bounded) per member, drained by a task of the
member's own in a task group; a member whose stream is full is disconnected (1008)."""

from collections import defaultdict

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

BUFFER = 32

app = FastAPI()
rooms: dict[str, dict[WebSocket, MemoryObjectSendStream[str]]] = defaultdict(dict)
too_slow: set[WebSocket] = set()


class Message(BaseModel):
    text: str


@app.websocket("/ws/{room}")
async def join(ws: WebSocket, room: str):
    await ws.accept()
    send, receive = anyio.create_memory_object_stream[str](BUFFER)
    rooms[room][ws] = send

    async def relay(scope: anyio.CancelScope) -> None:
        try:
            async with receive:
                async for text in receive:
                    await ws.send_text(text)
        except Exception:
            pass
        scope.cancel()

    async def listen(scope: anyio.CancelScope) -> None:
        try:
            while True:
                await ws.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            pass
        scope.cancel()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(relay, tg.cancel_scope)
            tg.start_soon(listen, tg.cancel_scope)
    finally:
        rooms[room].pop(ws, None)
        if ws in too_slow:
            too_slow.discard(ws)
            with anyio.CancelScope(shield=True), anyio.move_on_after(30):
                try:
                    await ws.close(code=1008, reason="too slow")
                except Exception:
                    pass


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    members = list(rooms[room].items())
    for ws, send in members:
        try:
            send.send_nowait(message.text)
        except anyio.WouldBlock:
            too_slow.add(ws)
            rooms[room].pop(ws, None)
            send.close()  # its relay ends, and with it the member's connection
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            rooms[room].pop(ws, None)
    return {"members": len(members)}
