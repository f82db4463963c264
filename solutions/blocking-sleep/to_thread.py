"""Fix: keep async def, move the blocking call to a thread with asyncio.to_thread."""

import asyncio
import time

from fastapi import FastAPI

app = FastAPI()


def simulated_work() -> None:
    time.sleep(0.3)


@app.get("/report")
async def report():
    await asyncio.to_thread(simulated_work)
    return {"status": "ok"}
