"""Notebook 02: the same wait written six ways, and a health check to see the loop.

Three endpoints wait with ``sleep``; three call a slow upstream (0.3 s per request).
Two of them block the event loop on purpose: they are the lesson.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

WAIT = 0.2
UPSTREAM_URL = os.environ["UPSTREAM_URL"]
client: httpx.AsyncClient


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global client
    # One pooled client for the app's life; enough connections for a burst of 100.
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100)) as client:
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/async-sleep")
async def async_sleep() -> dict[str, str]:
    await asyncio.sleep(WAIT)  # gives the loop back while waiting
    return {"how": "async def + asyncio.sleep"}


@app.get("/async-time-sleep")
async def async_time_sleep() -> dict[str, str]:
    time.sleep(WAIT)  # noqa: ASYNC251  (the bug is the lesson: holds the loop thread)
    return {"how": "async def + time.sleep"}


@app.get("/def-sleep")
def def_sleep() -> dict[str, str]:
    time.sleep(WAIT)  # a worker thread waits, the loop does not
    return {"how": "def + time.sleep"}


@app.get("/weather-blocking/{city}")
async def weather_blocking(city: str) -> dict[str, object]:
    response = httpx.get(f"{UPSTREAM_URL}/weather/{city}")  # noqa: ASYNC210  (the lesson)
    return response.json()


@app.get("/weather-async/{city}")
async def weather_async(city: str) -> dict[str, object]:
    response = await client.get(f"{UPSTREAM_URL}/weather/{city}")
    return response.json()


@app.get("/weather-to-thread/{city}")
async def weather_to_thread(city: str) -> dict[str, object]:
    response = await asyncio.to_thread(httpx.get, f"{UPSTREAM_URL}/weather/{city}")
    return response.json()


@app.get("/weather-def/{city}")
def weather_def(city: str) -> dict[str, object]:
    return httpx.get(f"{UPSTREAM_URL}/weather/{city}").json()
