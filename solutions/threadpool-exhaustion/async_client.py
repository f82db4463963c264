"""Fix: an async endpoint with a shared async client: no worker thread per request."""

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    response = await app.state.client.get(f"/legacy/{item_id}")
    return response.json()
