"""Chat relay: streams the model's answer to the browser as Server-Sent Events.

The model's answer is read ahead into a buffer, so a slow browser never slows the model
down; when the browser leaves, the reader task is cancelled and its `async with` closes
the model's stream."""

import asyncio
import os

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
client = httpx.AsyncClient(
    base_url=UPSTREAM_URL, timeout=None, limits=httpx.Limits(max_connections=None)
)
running: set[asyncio.Task] = set()


class Answer:
    """The model's answer to one prompt, read ahead by a task of its own."""

    def __init__(self, prompt: str):
        self.events: asyncio.Queue = asyncio.Queue()
        self.reader = asyncio.create_task(self.read(prompt))
        running.add(self.reader)
        self.reader.add_done_callback(running.discard)

    async def read(self, prompt: str):
        async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
            async for line in upstream.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    await self.events.put(line + "\n\n")
        await self.events.put(None)

    async def relay(self):
        try:
            while (event := await self.events.get()) is not None:
                yield event
        finally:
            # the browser left (Starlette cancelled this generator) or the answer ended
            self.reader.cancel()


@app.get("/health")
async def health():
    return {"ok": True}


@app.get("/chat/{chat_id}")
async def chat(chat_id: str, prompt: str):
    return StreamingResponse(Answer(prompt).relay(), media_type="text/event-stream")
