"""Fix: the five calls run together in an asyncio.TaskGroup, under one semaphore shared by
every request (the upstream's limit is for the whole service, not for one dashboard).

When a call fails, the TaskGroup cancels the others (httpx closes their connections) and
raises an ExceptionGroup; the dashboard answers 502.
"""

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")
UPSTREAM_LIMIT = 10  # calls the upstream accepts in flight from this service

upstream_slots = asyncio.Semaphore(UPSTREAM_LIMIT)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


async def fetch(part: str, user: str) -> dict:
    async with upstream_slots:
        response = await app.state.client.get(f"/parts/{part}/{user}")
    response.raise_for_status()
    return response.json()


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = {part: tg.create_task(fetch(part, user)) for part in PARTS}
    except* httpx.HTTPError as group:
        raise HTTPException(502, f"upstream failed: {group.exceptions[0]}") from None
    return {"user": user, **{part: task.result() for part, task in tasks.items()}}
