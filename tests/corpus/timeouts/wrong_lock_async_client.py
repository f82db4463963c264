"""Wrong: an async client with a timeout, but one asyncio.Lock around the call.

Every hang now holds the lock for 0.5 s: quotes queue behind the hanging ones.
"""
# expect-fail: deadline, healthy-fast

import asyncio
import os

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

client = httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=0.5)
lock = asyncio.Lock()

app = FastAPI()


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        async with lock:
            response = await client.get(f"/quote/{symbol}")
    except httpx.TimeoutException:
        raise HTTPException(504, "timeout") from None
    return response.json()
