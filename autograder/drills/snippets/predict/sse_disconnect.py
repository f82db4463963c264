"""A chat relay two ways, both async: /chat reads the model's stream inside the response's
generator; /chat-task reads it in a task of its own that feeds a queue the generator drains."""

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
readers: set[asyncio.Task] = set()  # a reference to each reader task until it is done


async def tokens(prompt: str):
    async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
        async for line in upstream.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                yield line + "\n\n"


@app.get("/chat/{chat_id}")
async def chat(chat_id: str, prompt: str):
    return StreamingResponse(tokens(prompt), media_type="text/event-stream")


async def pump(prompt: str, queue: asyncio.Queue):
    async for event in tokens(prompt):
        await queue.put(event)
    await queue.put(None)


async def drain(queue: asyncio.Queue):
    while (event := await queue.get()) is not None:
        yield event


@app.get("/chat-task/{chat_id}")
async def chat_task(chat_id: str, prompt: str):
    queue: asyncio.Queue = asyncio.Queue()
    reader = asyncio.create_task(pump(prompt, queue))
    readers.add(reader)
    reader.add_done_callback(readers.discard)
    return StreamingResponse(drain(queue), media_type="text/event-stream")
