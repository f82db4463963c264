"""Valid: sync client with a timeout in a thread under a CapacityLimiter of its own."""

import os

import anyio
import anyio.to_thread
import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

client = httpx.Client(base_url=UPSTREAM_URL, timeout=0.3)
limiter = anyio.CapacityLimiter(100)

app = FastAPI()


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        response = await anyio.to_thread.run_sync(client.get, f"/quote/{symbol}", limiter=limiter)
    except httpx.TimeoutException:
        raise HTTPException(504, "the pricing service did not answer in time") from None
    return response.json()
