"""Wrong: a semaphore, but a new one for every request: it limits one dashboard to 5 calls,
not the service to 10. Ten dashboards at once still send 50 calls.
"""
# expect-fail: upstream-limit

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    slots = asyncio.Semaphore(5)

    async def fetch(part: str) -> dict:
        async with slots:
            response = await app.state.client.get(f"/parts/{part}/{user}")
        response.raise_for_status()
        return response.json()

    try:
        async with asyncio.TaskGroup() as tg:
            tasks = {part: tg.create_task(fetch(part)) for part in PARTS}
    except* httpx.HTTPError:
        raise HTTPException(502, "upstream failed") from None
    return {"user": user, **{part: t.result() for part, t in tasks.items()}}
