"""Chat relay: one shared httpx.AsyncClient reads the model's stream; the loop serves everyone
meanwhile, and when the browser leaves FastAPI cancels the generator, whose
`async with client.stream(...)` closes the model's stream."""

import json
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


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


@app.get("/chat/{chat_id}", response_class=EventSourceResponse)
async def chat(chat_id: str, prompt: str):
    client: httpx.AsyncClient = app.state.client
    async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
        async for line in upstream.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                yield json.loads(line.removeprefix("data: "))
