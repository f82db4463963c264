"""Valid: the sync httpx call in a worker thread via anyio.to_thread.run_sync."""

import os

import anyio.to_thread
import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/weather/{city}")
async def weather(city: str):
    response = await anyio.to_thread.run_sync(httpx.get, f"{UPSTREAM_URL}/weather/{city}")
    return response.json()
