"""Reference answer, notebook 04: one shared ``httpx.AsyncClient`` and ``async def``
throughout: no worker thread, no limiter token, and the response model is checked on
the loop.

The client's pool is sized on purpose: httpx's default is 100 connections (20 kept
alive, 5 s to wait for a free one), exactly the burst; 200 leaves room. (Keeping the
``def`` code and raising ``current_default_thread_limiter().total_tokens`` in the
lifespan passes too: one thread per lookup in flight.)
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
client: httpx.AsyncClient


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global client
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=10) as client:
        yield


app = FastAPI(lifespan=lifespan)


class Item(BaseModel):
    item_id: int
    name: str


@app.get("/legacy/{item_id}")
async def lookup(item_id: int) -> Item:
    return (await client.get(f"/legacy/{item_id}")).json()
