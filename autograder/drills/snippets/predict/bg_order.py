"""Three background tasks registered by one request; each appends its name to AUDIT_LOG."""

import asyncio
import os
import time

from fastapi import BackgroundTasks, FastAPI

AUDIT_LOG = os.environ["AUDIT_LOG"]

app = FastAPI()


def audit(line: str) -> None:
    with open(AUDIT_LOG, "a") as f:
        f.write(line + "\n")


def slow_receipt() -> None:  # a def task: 0.3 s of blocking work, then its line
    time.sleep(0.3)
    audit("receipt")


async def quick_metrics() -> None:  # an async task: a short await, then its line
    await asyncio.sleep(0.01)
    audit("metrics")


def cleanup() -> None:
    audit("cleanup")


@app.post("/checkout")
async def checkout(tasks: BackgroundTasks):
    tasks.add_task(slow_receipt)
    tasks.add_task(quick_metrics)
    tasks.add_task(cleanup)
    return {"ok": True}
