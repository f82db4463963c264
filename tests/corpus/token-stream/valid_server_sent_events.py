"""Valid: a shared AsyncClient, each token relayed as a ServerSentEvent carrying its index as
the event id (what a browser's EventSource sends back as Last-Event-ID); the data is the
model's JSON object, parsed by hand from the raw SSE lines."""

import json
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=30.0, limits=limits) as client:
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
            if not line.startswith("data:"):
                continue
            data = line.removeprefix("data:").strip()
            if data == "[DONE]":
                break
            token = json.loads(data)
            yield ServerSentEvent(data=token, id=str(token["index"]))
