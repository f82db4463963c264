"""Wrong: the blocking wait becomes a task that nobody awaits.

The endpoint answers at once and the wait runs after the answer, still holding the loop:
in a burst each request waits behind the waits of earlier ones, so the burst alone looks
slow and concurrent. A request sent alone, on an idle loop, is answered at once.
"""
# expect-fail: still-waits, concurrent, loop-free

import asyncio
import time

from fastapi import FastAPI

app = FastAPI()
running: set[asyncio.Task[None]] = set()  # kept so the task is not garbage-collected


async def work() -> None:
    time.sleep(0.3)  # noqa: ASYNC251 (the bug: still blocking, only later)


@app.get("/report")
async def report():
    task = asyncio.create_task(work())
    running.add(task)
    task.add_done_callback(running.discard)
    return {"status": "ok"}
