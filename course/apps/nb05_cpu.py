"""Notebook 05: the same CPU-heavy job run five ways, beside a ``/health`` check.

Each ``POST`` endpoint does one job and reports the CPU time it took and where it ran,
so the notebook can tell "the loop was free" apart from "both cores did the work".
"""

import asyncio
import hashlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

ROUNDS = 1_000_000
LOOP_STEPS = 4_000_000  # about as long as one pbkdf2 on the course's machine


def pbkdf2(password: str) -> dict[str, Any]:
    """C code that releases the GIL while it hashes."""
    started = time.thread_time()
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), b"course-salt", ROUNDS)
    return {"result": digest.hex(), "cpu_s": time.thread_time() - started, "pid": os.getpid()}


def python_loop(steps: int = LOOP_STEPS) -> dict[str, Any]:
    """Pure-Python bytecode: the thread running it holds the GIL (handing it over every 5 ms)."""
    started = time.thread_time()
    total = 0
    for i in range(steps):
        total += i * i
    return {"result": total, "cpu_s": time.thread_time() - started, "pid": os.getpid()}


@asynccontextmanager
async def lifespan(app: FastAPI):
    # forkserver, not fork: forking a process that already runs threads can hand the
    # child a lock some other thread was holding, and the child hangs on it forever.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        loop = asyncio.get_running_loop()
        # Start the workers now (each imports this module once), not on the first request.
        await asyncio.gather(*(loop.run_in_executor(pool, python_loop, 1) for _ in range(4)))
        app.state.pool = pool
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health():
    return {"ok": True}


@app.post("/hash/on-loop")
async def hash_on_loop(password: str = "secret"):
    return pbkdf2(password)  # runs on the event loop's thread: nothing else runs meanwhile


@app.post("/hash/to-thread")
async def hash_to_thread(password: str = "secret"):
    return await asyncio.to_thread(pbkdf2, password)


@app.post("/loop/to-thread")
async def loop_to_thread():
    return await asyncio.to_thread(python_loop)


@app.post("/loop/def")
def loop_def():
    return python_loop()  # a plain def endpoint: FastAPI runs it in a worker thread


@app.post("/loop/process-pool")
async def loop_process_pool():
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(app.state.pool, python_loop)


@app.get("/threads")
async def threads():
    return {"threads": threading.active_count(), "pid": os.getpid()}
