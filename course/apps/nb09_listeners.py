"""Notebook 09: a service that holds listeners' streams open, as a notification feed does.

- ``GET /feed/async``: an ``async def`` generator under ``EventSourceResponse``; it sends
  one event (``{"open": true}``, so the listener knows it is in) and then waits for news
  with ``await``: no thread.
- ``GET /feed/sync``: the same as a plain ``def`` generator waiting on a blocking queue
  (here a ``threading.Event``): FastAPI runs each ``next()`` in a worker thread.
- ``GET /quiet``: one event after ``QUIET`` seconds of silence, with FastAPI's keep-alive
  interval shortened (below) so the comments it sends meanwhile show on the wire.
- ``GET /health``: a ``def`` endpoint, as many services have.
- ``GET /lab/open`` (the lesson's bookkeeping): generators running now, by kind, and the
  ASGI scope's ``spec_version`` uvicorn gave the last stream, the process's open file
  descriptors and its limit (from inside: the sandbox hides them); ``POST /lab/news`` lets
  every waiting generator end (the sync ones included).
"""

import asyncio
import os
import resource
import threading
import time

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.sse import EventSourceResponse

# FastAPI sends ": ping" after 15 s of silence (fastapi.sse._PING_INTERVAL, read by
# fastapi.routing at each wait). 15 s is long for a lesson: 0.2 s here. A private name,
# patched for the demonstration only.
fastapi.routing._PING_INTERVAL = 0.2
QUIET = 1.0

app = FastAPI()
news = threading.Event()  # set by POST /lab/news: every feed ends
async_news = asyncio.Event()
open_now = {"async": 0, "sync": 0, "sync_waiting": 0}  # sync_waiting: in news.wait, in a thread
counting = threading.Lock()  # the sync generators count from worker threads


def count(key: str, by: int) -> None:
    with counting:
        open_now[key] += by
seen = {"spec_version": None}


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/feed/async", response_class=EventSourceResponse)
async def feed_async(request: Request):
    seen["spec_version"] = request.scope["asgi"].get("spec_version")
    open_now["async"] += 1
    try:
        yield {"open": True}
        await async_news.wait()  # waiting for news: no thread, the loop is free meanwhile
    finally:
        open_now["async"] -= 1


@app.get("/feed/sync", response_class=EventSourceResponse)
def feed_sync():
    count("sync", 1)
    try:
        yield {"open": True}
        count("sync_waiting", 1)
        try:
            news.wait(30)  # a blocking wait (a queue's get(), a sync client's read): one thread
        finally:
            count("sync_waiting", -1)
    finally:
        count("sync", -1)


@app.get("/quiet", response_class=EventSourceResponse)
async def quiet():
    await asyncio.sleep(QUIET)  # a model thinking, a job running: nothing to send yet
    yield {"done": True}


@app.get("/lab/open")
async def lab_open():
    return {**open_now, **seen, "threads": threading.active_count(), "t": time.monotonic(),
            "fds": len(os.listdir("/proc/self/fd")), "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}


@app.post("/lab/news")
async def lab_news():
    news.set()
    async_news.set()
    return {"ok": True}
