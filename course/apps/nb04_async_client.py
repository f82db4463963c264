"""Fix 2: an ``async def`` endpoint and one shared async client: no worker thread at all."""

import os
from contextlib import asynccontextmanager

import httpx
import nb04_meter
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    # httpx's default pool allows 100 connections; the limit is the client's, not a thread's.
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=10) as client:
        app.state.client = client
        async with nb04_meter.sampling():
            yield


app = FastAPI(lifespan=lifespan)
app.include_router(nb04_meter.router)


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    response = await app.state.client.get(f"/legacy/{item_id}")
    return response.json()
