"""Wrong: a shared semaphore keeps the upstream under its limit, but asyncio.gather does not
cancel the other calls when one fails: the dashboard answers 502 while its four sibling
calls keep running at the upstream for nothing.
"""
# expect-fail: siblings-cancelled

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")

upstream_slots = asyncio.Semaphore(10)


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
        results = await asyncio.gather(*(fetch(part, user) for part in PARTS))
    except httpx.HTTPError:
        raise HTTPException(502, "upstream failed") from None
    return {"user": user, **dict(zip(PARTS, results, strict=True))}
