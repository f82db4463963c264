"""Wrong: each token fetched with `await asyncio.to_thread(next, ...)`: the loop stays free,
but every stream waiting for the model holds one of the 40 default executor threads
(0.5 s for the first token), so 60 streams exhaust them; nothing closes the sync stream
when the browser leaves either (left to the garbage collector)."""
# expect-fail: threads-free

import asyncio
import json
import os

import httpx
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
client = httpx.Client(base_url=UPSTREAM_URL, timeout=None, limits=httpx.Limits(max_connections=None))


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/chat/{chat_id}", response_class=EventSourceResponse)
async def chat(chat_id: str, prompt: str):
    request = client.build_request("GET", "/v1/stream", params={"prompt": prompt})
    upstream = await asyncio.to_thread(client.send, request, stream=True)
    lines = upstream.iter_lines()
    while (line := await asyncio.to_thread(next, lines, None)) is not None:
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line.removeprefix("data: "))
    upstream.close()
