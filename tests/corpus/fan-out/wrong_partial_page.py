"""Wrong: a failed part becomes null and the page is served anyway (200): the contract's
dashboard is all or nothing, and the failed call's siblings run to their end.
"""
# expect-fail: responses, siblings-cancelled

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")

upstream_slots = asyncio.Semaphore(10)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


async def fetch(part: str, user: str) -> dict | None:
    async with upstream_slots:
        response = await app.state.client.get(f"/parts/{part}/{user}")
    return response.json() if response.is_success else None


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    results = await asyncio.gather(*(fetch(part, user) for part in PARTS))
    return {"user": user, **dict(zip(PARTS, results, strict=True))}
