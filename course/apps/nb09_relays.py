"""Notebook 09: one model relay written four ways, side by side in one service.

Each route relays the model API's tokens (``GET {UPSTREAM_URL}/v1/stream?prompt=P``) to
its client as Server-Sent Events:

- ``/relay/eventsource``: an ``async def`` generator under ``EventSourceResponse``, reading
  the model with ``httpx.AsyncClient`` (the ``token-stream`` exercise's reference fix);
- ``/relay/streaming``: the same generator, framed by hand, in a ``StreamingResponse``;
- ``/relay/sync``: a ``def`` generator under ``EventSourceResponse`` reading with the
  sync ``httpx.Client``: FastAPI iterates it in worker threads;
- ``/relay/task``: the model read by a task of its own into a queue, the generator
  relaying the queue (a common shape for "fan the stream out to several consumers").

The lesson's bookkeeping: every generator notes, in its ``finally``, what ended it
(``CancelledError`` at an ``await``, ``GeneratorExit`` at a ``yield``, or the end of the
answer) and when; ``GET /lab/ends`` returns those notes, by prompt.
"""

import asyncio
import json
import os
import time

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
ends: dict[str, dict] = {}


def note(prompt: str, how: str) -> None:
    ends[prompt] = {"how": how, "at": time.monotonic()}


def tokens(line: str) -> bool:
    return line.startswith("data: ") and line != "data: [DONE]"


@app.get("/relay/eventsource", response_class=EventSourceResponse)
async def relay_eventsource(prompt: str):
    how = "the answer ended"
    try:
        async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None) as client:
            async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
                async for line in upstream.aiter_lines():
                    if tokens(line):
                        yield json.loads(line.removeprefix("data: "))
    except BaseException as exc:
        how = type(exc).__name__
        raise
    finally:
        note(prompt, how)


async def framed(prompt: str):
    how = "the answer ended"
    try:
        async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None) as client:
            async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
                async for line in upstream.aiter_lines():
                    if tokens(line):
                        yield line + "\n\n"
    except BaseException as exc:
        how = type(exc).__name__
        raise
    finally:
        note(prompt, how)


@app.get("/relay/streaming")
async def relay_streaming(prompt: str):
    return StreamingResponse(framed(prompt), media_type="text/event-stream")


@app.get("/relay/sync", response_class=EventSourceResponse)
def relay_sync(prompt: str):
    how = "the answer ended"
    try:
        with httpx.Client(base_url=UPSTREAM_URL, timeout=None) as client:
            with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
                for line in upstream.iter_lines():
                    if tokens(line):
                        yield json.loads(line.removeprefix("data: "))
    except BaseException as exc:
        how = type(exc).__name__
        raise
    finally:
        note(prompt, how)


async def read_model(prompt: str, queue: asyncio.Queue) -> None:
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None) as client:
        async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as upstream:
            async for line in upstream.aiter_lines():
                if tokens(line):
                    await queue.put(json.loads(line.removeprefix("data: ")))
    await queue.put(None)


readers: set[asyncio.Task] = set()


@app.get("/relay/task", response_class=EventSourceResponse)
async def relay_task(prompt: str):
    queue: asyncio.Queue = asyncio.Queue()
    reader = asyncio.create_task(read_model(prompt, queue))
    readers.add(reader)
    reader.add_done_callback(readers.discard)
    how = "the answer ended"
    try:
        while (token := await queue.get()) is not None:
            yield token
    except BaseException as exc:
        how = type(exc).__name__
        raise
    finally:
        note(prompt, how)


@app.get("/lab/ends")
async def lab_ends():
    return ends
