"""Chat rooms across replicas: a message posted to any replica goes through Redis pub/sub,
and every replica delivers it to the members connected to it."""

import asyncio
import contextlib
import os
from collections import defaultdict

import redis.asyncio as redis
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

broker = redis.from_url(os.environ["REDIS_URL"])
rooms: dict[str, list[WebSocket]] = defaultdict(list)  # this replica's members only


class Message(BaseModel):
    text: str


async def relay(pubsub) -> None:
    async for m in pubsub.listen():  # every replica gets every room's messages
        if m["type"] == "pmessage":
            room, text = m["channel"].decode().removeprefix("room:"), m["data"].decode()
            # (a member that stops reading would hold this loop: give each member a
            # bounded queue and a sender of its own, as in the ws-broadcast exercise)
            for ws in list(rooms[room]):
                with contextlib.suppress(Exception):
                    await ws.send_text(text)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    pubsub = broker.pubsub()
    await pubsub.psubscribe("room:*")  # subscribed before the replica serves
    task = asyncio.create_task(relay(pubsub))
    yield
    task.cancel()
    await pubsub.aclose()
    await broker.aclose()


app = FastAPI(lifespan=lifespan)


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
    replicas = await broker.publish(f"room:{room}", message.text)
    return {"replicas": replicas}
