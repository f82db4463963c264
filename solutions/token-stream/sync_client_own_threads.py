"""Chat relay keeping the sync client: StreamingResponse over an async generator that runs
each next() of the sync stream in a thread of a CapacityLimiter of its own (streams do not
hold the 40 default tokens). When the browser leaves, Starlette cancels that generator
while it waits for a token; its finally closes the sync stream, and the model's stream."""

import os

import anyio
import anyio.to_thread
import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
streams = anyio.CapacityLimiter(200)


@app.get("/health")
def health():
    return {"ok": True}


def lines(prompt: str):
    with httpx.Client(base_url=UPSTREAM_URL, timeout=None) as client:
        with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
            for line in upstream.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    yield line + "\n\n"


async def relay(prompt: str):
    it = lines(prompt)
    try:
        while (event := await anyio.to_thread.run_sync(next, it, None, limiter=streams)) is not None:
            yield event
    finally:
        it.close()


@app.get("/chat/{chat_id}")
async def chat(chat_id: str, prompt: str):
    return StreamingResponse(relay(prompt), media_type="text/event-stream")
