"""Wrong: a timeout on the sync client, but called inside async def.

Each call blocks the event loop (50 ms for a price, 0.5 s for a hang): quotes queue
behind one another.
"""
# expect-fail: deadline, loop-free

import os

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

client = httpx.Client(base_url=UPSTREAM_URL, timeout=0.5)

app = FastAPI()


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        response = client.get(f"/quote/{symbol}")  # noqa: ASYNC212 (the bug)
    except httpx.TimeoutException:
        raise HTTPException(504, "timeout") from None
    return response.json()
