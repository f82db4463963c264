"""Wrong: no limit of its own; it retries whatever the upstream refuses with 429.

Every dashboard comes back right in the end, but the upstream had to refuse dozens of
calls to get there: the retries hide the overload instead of preventing it.
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


async def fetch(part: str, user: str) -> dict:
    for attempt in range(20):
        response = await app.state.client.get(f"/parts/{part}/{user}")
        if response.status_code != 429:
            break
        await asyncio.sleep(0.02 * (attempt + 1))
    response.raise_for_status()
    return response.json()


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = {part: tg.create_task(fetch(part, user)) for part in PARTS}
    except* httpx.HTTPError:
        raise HTTPException(502, "upstream failed") from None
    return {"user": user, **{part: t.result() for part, t in tasks.items()}}
