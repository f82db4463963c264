"""Broken: every request waits forever for an event nobody sets."""

import asyncio

from fastapi import FastAPI

app = FastAPI()
never = asyncio.Event()


@app.get("/report")
async def report():
    await never.wait()
    return {"status": "ok"}
