"""Fix: a native async client, shared for the app's lifetime."""

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/weather/{city}")
async def weather(city: str):
    response = await app.state.client.get(f"/weather/{city}")
    return response.json()
