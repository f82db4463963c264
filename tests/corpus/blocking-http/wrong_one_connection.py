"""Wrong: a shared AsyncClient whose pool allows a single connection.

Nothing blocks the loop, but the pool queues every request behind the one connection:
the upstream never sees two at once.
"""
# expect-fail: concurrent, upstream-concurrency

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=30) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/weather/{city}")
async def weather(city: str):
    response = await app.state.client.get(f"/weather/{city}")
    return response.json()
