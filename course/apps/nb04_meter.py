"""Notebook 04's meter: what the thread limiter and the process are doing, seen from inside.

Not part of any lesson app's logic: each app of notebook 04 mounts ``router`` and runs
``sampling()`` in its lifespan, so the notebook can draw the limiter's tokens in use
beside the request timeline and compare what each fix costs.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import psutil
from fastapi import APIRouter

SAMPLE_EVERY = 0.005
# (monotonic time, tokens borrowed, threads alive): time.monotonic() is one clock for
# every process on the machine, so the notebook can line samples up with its requests.
trace: deque[tuple[float, int, int]] = deque(maxlen=50_000)
router = APIRouter(prefix="/lab")


async def _sample() -> None:
    limiter = anyio.to_thread.current_default_thread_limiter()
    while True:
        trace.append((time.monotonic(), int(limiter.borrowed_tokens), threading.active_count()))
        await asyncio.sleep(SAMPLE_EVERY)


@asynccontextmanager
async def sampling() -> AsyncIterator[None]:
    """Sample the limiter every 5 ms on the loop for as long as the app runs."""
    task = asyncio.create_task(_sample())
    try:
        yield
    finally:
        task.cancel()


@router.get("/limiter")
async def limiter_state(since: float = 0.0) -> dict[str, Any]:
    limiter = anyio.to_thread.current_default_thread_limiter()
    return {
        "total_tokens": limiter.total_tokens,
        "borrowed_tokens": limiter.borrowed_tokens,
        "trace": [s for s in trace if s[0] >= since],
    }


@router.post("/limiter/{tokens}")
async def set_limiter(tokens: int) -> dict[str, Any]:
    """The notebook's knob: what the lifespan fix does, changed while the app runs."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = tokens
    return {"total_tokens": tokens}


@router.get("/costs")
async def costs() -> dict[str, Any]:
    """Threads, memory and open connections to the upstream, right now."""
    me = psutil.Process()
    upstream_port = urllib.parse.urlsplit(os.environ["UPSTREAM_URL"]).port
    connections = [
        c
        for c in me.net_connections(kind="tcp")
        if c.raddr and c.raddr.port == upstream_port and c.status == psutil.CONN_ESTABLISHED
    ]
    memory = me.memory_info()
    return {
        "threads": threading.active_count(),
        "rss_mib": round(memory.rss / 2**20, 1),
        "vms_mib": round(memory.vms / 2**20, 1),
        "upstream_connections": len(connections),
    }
