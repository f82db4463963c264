"""Wrong: a timeout around the thread, not inside the call.

asyncio.wait_for answers 504 on time, but cancelling the await cannot stop the thread:
it keeps waiting on its socket forever, the connection stays open, and the executor's
workers fill up with hung calls until healthy quotes time out too.
"""
# expect-fail: cleanup, healthy-fast

import asyncio
import os

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

client = httpx.Client(base_url=UPSTREAM_URL, timeout=None)

app = FastAPI()


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        response = await asyncio.wait_for(asyncio.to_thread(client.get, f"/quote/{symbol}"), 0.5)
    except TimeoutError:
        raise HTTPException(504, "timeout") from None
    return response.json()
