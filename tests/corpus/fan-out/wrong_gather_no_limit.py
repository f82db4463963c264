"""Wrong: the five calls run together with asyncio.gather, but nothing limits the service as
a whole: ten dashboards at once send 50 calls to an upstream that accepts 10.
"""
# expect-fail: upstream-limit, responses

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


async def fetch(part: str, user: str) -> dict:
    response = await app.state.client.get(f"/parts/{part}/{user}")
    response.raise_for_status()
    return response.json()


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    results = await asyncio.gather(*(fetch(part, user) for part in PARTS))
    return {"user": user, **dict(zip(PARTS, results, strict=True))}
