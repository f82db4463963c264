"""Fix: wait with asyncio.sleep, which yields the loop to other requests."""

import asyncio

from fastapi import FastAPI

app = FastAPI()


@app.get("/report")
async def report():
    await asyncio.sleep(0.3)  # simulated work, awaited
    return {"status": "ok"}
