"""Valid: EventSourceResponse over an async generator with an httpx.AsyncClient per stream;
when the browser leaves, the generator is cancelled or closed, and both `async with`
blocks close the model's stream and the client."""

import json
import os

import httpx
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/health")
async def health():
    return {"ok": True}


@app.get("/chat/{chat_id}", response_class=EventSourceResponse)
async def chat(chat_id: str, prompt: str):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None) as client:
        async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
            async for line in upstream.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    yield json.loads(line.removeprefix("data: "))
