"""Team digests: each member's profile, fetched from the profiles API (0.2 s a call)."""

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


async def profile(user: str) -> dict:
    response = await client.get(f"/parts/profile/{user}")
    response.raise_for_status()
    return response.json()


@app.post("/digest")
async def digest(team: Team):
    # All at once: a team of 20 takes one call's time, not twenty.
    profiles = await asyncio.gather(*(profile(u) for u in team.users))
    return {"profiles": profiles}
