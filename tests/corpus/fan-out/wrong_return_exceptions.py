"""Wrong: gather(return_exceptions=True) waits for every call, the failed one included, and
only then answers 502: the siblings of the failed call all run to their end.
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
    results = await asyncio.gather(*(fetch(p, user) for p in PARTS), return_exceptions=True)
    if any(isinstance(r, BaseException) for r in results):
        raise HTTPException(502, "upstream failed")
    return {"user": user, **dict(zip(PARTS, results, strict=True))}
