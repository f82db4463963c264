"""Weather cache, fixed: one lock per city, so only requests for the same city wait."""

import asyncio
import os
from collections import defaultdict
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # answers in 0.3 s
cache: dict[str, dict] = {}
locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/weather/{city}")
async def weather(city: str):
    async with locks[city]:
        if city not in cache:
            response = await app.state.client.get(f"/weather/{city}")
            cache[city] = response.json()
        return cache[city]
