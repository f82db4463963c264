"""Valid: asyncio.wait(..., FIRST_EXCEPTION) and an explicit cancel of what is still pending,
under a semaphore shared by the whole service: the TaskGroup's behaviour, by hand.
"""

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
    tasks = {part: asyncio.create_task(fetch(part, user)) for part in PARTS}
    done, pending = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    failed = [t.exception() for t in done if t.exception() is not None]
    if failed:
        raise HTTPException(502, f"upstream failed: {failed[0]}")
    return {"user": user, **{part: t.result() for part, t in tasks.items()}}
