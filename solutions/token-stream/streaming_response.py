"""Chat relay: a StreamingResponse over an async generator that writes the SSE framing itself;
an AsyncClient per conversation. When the browser leaves, Starlette cancels the generator,
and leaving `async with` closes the model's stream."""

import os

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/health")
async def health():
    return {"ok": True}


async def relay(prompt: str):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None) as client:
        async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
            async for line in upstream.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    yield line + "\n\n"


@app.get("/chat/{chat_id}")
async def chat(chat_id: str, prompt: str):
    return StreamingResponse(relay(prompt), media_type="text/event-stream")
