"""Weather cache: fetch a city from the upstream once, then serve it from memory."""

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # answers in 0.3 s
cache: dict[str, dict] = {}
lock = asyncio.Lock()  # two requests for one city must not both fetch it


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/weather/{city}")
async def weather(city: str):
    async with lock:
        if city not in cache:
            response = await app.state.client.get(f"/weather/{city}")
            cache[city] = response.json()
        return cache[city]
