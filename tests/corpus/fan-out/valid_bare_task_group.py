"""Valid: a TaskGroup with no handler of its own. The failure leaves the endpoint as an
ExceptionGroup and FastAPI answers 500: the contract accepts any 5xx; the siblings are
cancelled all the same.
"""

import asyncio
import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")

app = FastAPI()
client = httpx.AsyncClient(base_url=UPSTREAM_URL)
upstream_slots = asyncio.BoundedSemaphore(10)


async def fetch(part: str, user: str) -> dict:
    async with upstream_slots:
        response = await client.get(f"/parts/{part}/{user}")
    response.raise_for_status()
    return response.json()


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    async with asyncio.TaskGroup() as tg:
        tasks = {part: tg.create_task(fetch(part, user)) for part in PARTS}
    return {"user": user, **{part: t.result() for part, t in tasks.items()}}
