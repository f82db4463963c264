"""Valid: asyncio.TaskGroup for the five calls, and a client whose pool has 10 connections:
the pool is the service-wide limit (a call waits for a free connection).
"""

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")


@asynccontextmanager
async def lifespan(app: FastAPI):
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


async def fetch(part: str, user: str) -> dict:
    response = await app.state.client.get(f"/parts/{part}/{user}")
    response.raise_for_status()
    return response.json()


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = {part: tg.create_task(fetch(part, user)) for part in PARTS}
    except* httpx.HTTPStatusError:
        raise HTTPException(502, "a part of the dashboard is unavailable") from None
    return {"user": user, **{part: t.result() for part, t in tasks.items()}}
