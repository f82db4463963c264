"""Pure-Python number crunching (0.25 s of CPU each) sent to a thread with asyncio.to_thread."""

import asyncio

from cpucost import COUNT_N, count
from fastapi import FastAPI

app = FastAPI()


@app.post("/crunch")
async def crunch():
    return {"result": await asyncio.to_thread(count, COUNT_N)}


@app.get("/health")
async def health():
    return {"ok": True}
