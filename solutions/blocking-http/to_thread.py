"""Fix: keep async def and the sync client, run the call in a thread."""

import asyncio
import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/weather/{city}")
async def weather(city: str):
    response = await asyncio.to_thread(httpx.get, f"{UPSTREAM_URL}/weather/{city}")
    return response.json()
