"""Wrong: a native async client, but every call goes through one asyncio.Lock.

The loop stays free, yet the upstream sees one request at a time: 20 cities take 6 s.
"""
# expect-fail: concurrent, upstream-concurrency

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
lock = asyncio.Lock()


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/weather/{city}")
async def weather(city: str):
    async with lock:
        response = await app.state.client.get(f"/weather/{city}")
    return response.json()
