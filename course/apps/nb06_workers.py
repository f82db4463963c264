"""Notebook 06: one app served by `uvicorn --workers 2`, and which worker answered.

Every endpoint answers with the pid of the worker process that served it. ``/block``
holds its worker's event loop for 0.25 s (``time.sleep`` in ``async def``, the shop's
mistake in one line); ``/state`` shows what each worker keeps to itself.
"""

import os
import time

import anyio.to_thread
from fastapi import FastAPI

BLOCK = 0.25
served = 0  # this process's count: each worker has its own

app = FastAPI()


@app.get("/whoami")
async def whoami() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/health")
async def health() -> dict[str, int]:
    return {"pid": os.getpid()}  # answered by the loop itself: it measures that loop


@app.get("/block")
async def block() -> dict[str, int]:
    time.sleep(BLOCK)  # noqa: ASYNC251 (the lesson: it holds this worker's loop)
    return {"pid": os.getpid()}


@app.get("/state")
async def state() -> dict[str, int]:
    global served
    served += 1
    limiter = anyio.to_thread.current_default_thread_limiter()
    return {"pid": os.getpid(), "served": served, "tokens": int(limiter.total_tokens)}
