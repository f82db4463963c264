"""Wrong: a native async client, but its connection pool is capped at 40.

No thread is involved any more, yet the pool itself recreates the 40-at-a-time waves.
"""
# expect-fail: upstream-concurrency

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    response = await app.state.client.get(f"/legacy/{item_id}")
    return response.json()
