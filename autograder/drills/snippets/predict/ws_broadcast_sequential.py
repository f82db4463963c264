"""Chat rooms: each message posted to a room is sent to every member, one after another."""

from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

app = FastAPI()
rooms: dict[str, list[WebSocket]] = defaultdict(list)


class Message(BaseModel):
    text: str


@app.websocket("/ws/{room}")
async def join(ws: WebSocket, room: str):
    await ws.accept()
    rooms[room].append(ws)
    try:
        while True:
            await ws.receive_text()  # members only listen; this notices when they leave
    except WebSocketDisconnect:
        pass
    finally:
        rooms[room].remove(ws)


@app.post("/rooms/{room}/messages", status_code=202)
async def publish(room: str, message: Message):
    for ws in list(rooms[room]):
        await ws.send_text(message.text)
    return {"members": len(rooms[room])}
