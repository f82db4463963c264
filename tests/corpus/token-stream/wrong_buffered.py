"""Wrong: the async client reads the model's whole answer, then relays it: the loop stays
free, but no token reaches the browser before the model has finished."""
# expect-fail: first-token

import json
import os

import httpx
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/chat/{chat_id}", response_class=EventSourceResponse)
async def chat(chat_id: str, prompt: str):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None) as client:
        answer = await client.get("/v1/stream", params={"prompt": prompt})
    for line in answer.text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line.removeprefix("data: "))
