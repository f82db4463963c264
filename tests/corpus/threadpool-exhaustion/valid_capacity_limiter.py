"""Valid: an async endpoint hands the sync call to a thread under its own CapacityLimiter(200)."""

import os

import anyio
import anyio.to_thread
import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
limiter = anyio.CapacityLimiter(200)


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    response = await anyio.to_thread.run_sync(
        httpx.get, f"{UPSTREAM_URL}/legacy/{item_id}", limiter=limiter
    )
    return response.json()
