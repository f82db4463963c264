"""Wrong: the model's stream is read by a task of its own into a queue ("so a slow browser
never slows the model"); the generator relays from the queue. The disconnect cancels the
generator only: nothing stops the task, which reads the model's answer to the end."""
# expect-fail: upstream-closed

import asyncio
import json
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
tasks: set[asyncio.Task] = set()


@asynccontextmanager
async def lifespan(app: FastAPI):
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None, limits=limits) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
def health():
    return {"ok": True}


async def pump(prompt: str, queue: asyncio.Queue) -> None:
    async with app.state.client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
        async for line in upstream.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                await queue.put(json.loads(line.removeprefix("data: ")))
    await queue.put(None)


@app.get("/chat/{chat_id}", response_class=EventSourceResponse)
async def chat(chat_id: str, prompt: str):
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(pump(prompt, queue))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    while (token := await queue.get()) is not None:
        yield token
