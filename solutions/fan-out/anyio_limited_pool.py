"""Fix: an AnyIO task group runs the five calls together; the client's connection pool
holds the service-wide limit (at most 10 connections, so at most 10 calls in flight).

A failed call cancels the task group's other calls; the dashboard answers 502.
"""

import os
from contextlib import asynccontextmanager

import anyio
import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")
UPSTREAM_LIMIT = 10  # calls the upstream accepts in flight from this service


@asynccontextmanager
async def lifespan(app: FastAPI):
    limits = httpx.Limits(max_connections=UPSTREAM_LIMIT)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    page: dict = {"user": user}

    async def fetch(part: str) -> None:
        response = await app.state.client.get(f"/parts/{part}/{user}")
        response.raise_for_status()
        page[part] = response.json()

    try:
        async with anyio.create_task_group() as tg:
            for part in PARTS:
                tg.start_soon(fetch, part)
    except* httpx.HTTPError as group:
        raise HTTPException(502, f"upstream failed: {group.exceptions[0]}") from None
    return page
