"""Event streams that never end: one well-behaved, one that blocks the loop between
events (a StreamingResponse: the schema does not say it streams, its answer's head
does), one that never sends an event; and a plain route after them."""

import asyncio
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse

app = FastAPI()


@app.get("/ticks", response_class=EventSourceResponse)
async def ticks():
    n = 0
    while True:
        yield {"n": n}
        n += 1
        await asyncio.sleep(0.05)


async def blocking_ticks():
    n = 0
    while True:
        time.sleep(0.05)  # PROBLEM: blocks-loop
        yield f": a comment, not an event\n\ndata: {n}\n\n"
        n += 1
        await asyncio.sleep(0.01)


@app.get("/blocking-ticks")
async def blocking():
    return StreamingResponse(blocking_ticks(), media_type="text/event-stream")


@app.get("/silent", response_class=EventSourceResponse)
async def silent():
    await asyncio.Event().wait()  # PROBLEM: errors (no event, loop free)
    yield {"never": True}


@app.get("/after")
async def after():
    return {"still": "measured"}
