"""Wrong: async def plus asyncio.to_thread only moves the cap to another pool.

The default executor has 40 workers (as many as AnyIO's limiter): 100 requests still
reach the upstream 40 at a time.
"""
# expect-fail: upstream-concurrency

import asyncio
import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    response = await asyncio.to_thread(httpx.get, f"{UPSTREAM_URL}/legacy/{item_id}")
    return response.json()
