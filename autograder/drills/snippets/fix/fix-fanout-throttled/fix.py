"""Team digests, fixed: one semaphore for the whole service holds the profiles API's limit."""

import asyncio
import os

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
client = httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10)
# The API accepts 10 calls in flight from this service: from all requests together, so
# the semaphore is module-level (one per request would let every request send 10).
PROFILES_API = asyncio.Semaphore(10)


class Team(BaseModel):
    users: list[str]


async def profile(user: str) -> dict:
    async with PROFILES_API:
        response = await client.get(f"/parts/profile/{user}")
    response.raise_for_status()
    return response.json()


@app.post("/digest")
async def digest(team: Team):
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(profile(u)) for u in team.users]
    return {"profiles": [t.result() for t in tasks]}
