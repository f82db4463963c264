"""WebSocket routes the scan lists from the app's own routes: an echo, a room that
broadcasts, one whose handler blocks the loop, one that speaks first, one with a path
parameter it can fill and one with a uuid it cannot; and a plain route after them."""

import asyncio
import time
import uuid

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
room: set[WebSocket] = set()


@app.websocket("/echo")
async def echo(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


@app.websocket("/room/{name}")
async def broadcast(websocket: WebSocket, name: str):
    await websocket.accept()
    room.add(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            for member in list(room):
                await member.send_text(f"{name}: {text}")
    except WebSocketDisconnect:
        pass
    finally:
        room.discard(websocket)


@app.websocket("/blocking-echo")
async def blocking_echo(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            time.sleep(0.05)  # PROBLEM: blocks-loop
            await websocket.send_text(text)
    except WebSocketDisconnect:
        pass


@app.websocket("/ticks")
async def ticks(websocket: WebSocket):
    await websocket.accept()
    n = 0
    while True:
        await websocket.send_json({"n": n})
        n += 1
        await asyncio.sleep(0.05)


@app.websocket("/orders/{order_id:uuid}")
async def order(websocket: WebSocket, order_id: uuid.UUID):
    await websocket.accept()
    await websocket.send_text(str(order_id))


@app.get("/after")
async def after():
    return {"still": "measured"}
