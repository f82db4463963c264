"""Reference answer, notebook 02: one shared async client, both cities asked at once.

(A plain ``def`` endpoint passes too: each trip then holds one of AnyIO's 40 threads
for its two calls, 0.6 s.)
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
client: httpx.AsyncClient


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global client
    # httpx's default pool: 100 connections, 20 kept alive, 5 s to wait for a free one.
    async with httpx.AsyncClient() as client:
        yield


app = FastAPI(lifespan=lifespan)


async def forecast(city: str) -> dict[str, object]:
    return (await client.get(f"{UPSTREAM_URL}/weather/{city}")).json()


@app.get("/trip/{a}/{b}")
async def trip(a: str, b: str) -> dict[str, object]:
    start, end = await asyncio.gather(forecast(a), forecast(b))
    return {"from": start, "to": end}
