"""A chat relay as a plain def generator behind EventSourceResponse, reading the model's
stream with a synchronous httpx client (one shared client)."""

import json
import os

import httpx
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
client = httpx.Client(
    base_url=UPSTREAM_URL, timeout=None, limits=httpx.Limits(max_connections=None)
)


@app.get("/health")
async def health():
    return {"ok": True}


@app.get("/chat/{chat_id}", response_class=EventSourceResponse)
def chat(chat_id: str, prompt: str):
    with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
        for line in upstream.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                yield json.loads(line.removeprefix("data: "))
