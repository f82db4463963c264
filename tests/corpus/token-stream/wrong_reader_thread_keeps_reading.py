"""Wrong: a worker thread per stream (asyncio's default executor) reads the sync client's
stream into an unbounded queue; when the browser leaves, the thread keeps reading the
model's answer to its end, holding one of the 40 worker threads meanwhile."""
# expect-fail: threads-free, upstream-closed, threads-released

import asyncio
import json
import os
import queue

import anyio
import anyio.to_thread
import httpx
from fastapi import FastAPI
from fastapi.sse import EventSourceResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
readers = anyio.CapacityLimiter(200)


@app.get("/health")
def health():
    return {"ok": True}


def pump(prompt: str, q: queue.Queue) -> None:
    with httpx.Client(base_url=UPSTREAM_URL, timeout=None) as client:
        with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
            for line in upstream.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    q.put(json.loads(line.removeprefix("data: ")))
    q.put(None)


@app.get("/chat/{chat_id}", response_class=EventSourceResponse)
async def chat(chat_id: str, prompt: str):
    q: queue.Queue = queue.Queue()
    asyncio.get_running_loop().run_in_executor(None, pump, prompt, q)
    while (token := await anyio.to_thread.run_sync(q.get, limiter=readers)) is not None:
        yield token
