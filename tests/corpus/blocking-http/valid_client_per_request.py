"""Valid: a fresh httpx.AsyncClient for each request (costlier, still concurrent)."""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/weather/{city}")
async def weather(city: str):
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{UPSTREAM_URL}/weather/{city}")
    return response.json()
