"""Valid: a shared async client under an asyncio.Semaphore(100): a bound, not a bottleneck."""

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
slots = asyncio.Semaphore(100)


@asynccontextmanager
async def lifespan(app: FastAPI):
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    async with slots:
        response = await app.state.client.get(f"/legacy/{item_id}")
    return response.json()
