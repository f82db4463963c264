"""Team digests, fixed another way: a client pool of 10 connections queues the rest."""

import asyncio
import os

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
# One connection carries one call at a time: at most 10 in flight, whatever the load.
client = httpx.AsyncClient(
    base_url=UPSTREAM_URL, timeout=10, limits=httpx.Limits(max_connections=10)
)


class Team(BaseModel):
    users: list[str]


async def profile(user: str) -> dict:
    response = await client.get(f"/parts/profile/{user}")
    response.raise_for_status()
    return response.json()


@app.post("/digest")
async def digest(team: Team):
    profiles = await asyncio.gather(*(profile(u) for u in team.users))
    return {"profiles": profiles}
