"""A wrong fix: a semaphore of 10 per request. One digest alone is fine; three at once
send 30 calls together and the API refuses 20 of them."""

import asyncio
import os

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
client = httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10)


class Team(BaseModel):
    users: list[str]


async def profile(user: str, limit: asyncio.Semaphore) -> dict:
    async with limit:
        response = await client.get(f"/parts/profile/{user}")
    response.raise_for_status()
    return response.json()


@app.post("/digest")
async def digest(team: Team):
    limit = asyncio.Semaphore(10)
    profiles = await asyncio.gather(*(profile(u, limit) for u in team.users))
    return {"profiles": profiles}
