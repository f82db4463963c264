"""Valid: one AnyIO CapacityLimiter for the whole service holds the upstream's limit; an AnyIO
task group runs the five calls and cancels the rest when one fails.
"""

import os
from contextlib import asynccontextmanager

import anyio
import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.upstream_slots = anyio.CapacityLimiter(10)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    page: dict = {"user": user}

    async def fetch(part: str) -> None:
        async with app.state.upstream_slots:
            response = await app.state.client.get(f"/parts/{part}/{user}")
        response.raise_for_status()
        page[part] = response.json()

    try:
        async with anyio.create_task_group() as tg:
            for part in PARTS:
                tg.start_soon(fetch, part)
    except* httpx.HTTPStatusError:
        raise HTTPException(502, "a part of the dashboard is unavailable") from None
    return page
