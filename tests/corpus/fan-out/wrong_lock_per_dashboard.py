"""Wrong: a lock around each dashboard's fan-out keeps the upstream under its limit (5 calls
at a time), but dashboards now wait for one another: ten take ten upstream delays, where the
upstream's 10 slots would serve them in five.
"""
# expect-fail: burst

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")

one_dashboard_at_a_time = asyncio.Lock()


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
    try:
        async with one_dashboard_at_a_time, asyncio.TaskGroup() as tg:
            tasks = {part: tg.create_task(fetch(part, user)) for part in PARTS}
    except* httpx.HTTPError:
        raise HTTPException(502, "upstream failed") from None
    return {"user": user, **{part: t.result() for part, t in tasks.items()}}
