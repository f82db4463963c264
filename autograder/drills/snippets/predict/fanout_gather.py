"""A dashboard that fans out to five parts with asyncio.gather and no limit of its own."""

import asyncio
import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")

app = FastAPI()
client = httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10)


async def fetch(part: str, user: str) -> dict:
    response = await client.get(f"/parts/{part}/{user}")
    response.raise_for_status()
    return response.json()


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    results = await asyncio.gather(*(fetch(part, user) for part in PARTS))
    return {"user": user, **dict(zip(PARTS, results, strict=True))}
