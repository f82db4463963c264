"""Wrong: a plain sync generator on the default limiter. FastAPI runs each next() in one of
the 40 default worker threads; waiting 0.5 s for the first token, 60 streams hold them
all, so the other 20 streams and every `def` endpoint (/health) queue behind them."""
# expect-fail: health-fast, threads-free

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
def chat(chat_id: str, prompt: str):
    with httpx.Client(base_url=UPSTREAM_URL, timeout=None) as client:
        with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
            for line in upstream.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    yield json.loads(line.removeprefix("data: "))
