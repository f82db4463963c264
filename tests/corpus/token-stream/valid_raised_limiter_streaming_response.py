"""Valid: the sync client's stream in a sync generator, each next() run by an async generator
in a thread of the default limiter, raised to 200 tokens in the lifespan (60 streams no
longer exhaust it); cancelled inside that generator when the browser leaves, whose
finally closes the model's stream."""

import os
from contextlib import asynccontextmanager

import anyio.to_thread
import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    anyio.to_thread.current_default_thread_limiter().total_tokens = 200
    yield


app = FastAPI(lifespan=lifespan)


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
        while (event := await anyio.to_thread.run_sync(next, it, None)) is not None:
            yield event
    finally:
        it.close()


@app.get("/chat/{chat_id}")
async def chat(chat_id: str, prompt: str):
    return StreamingResponse(relay(prompt), media_type="text/event-stream")
