"""Dashboard: five parts from the account service, asked all at once with asyncio.gather.

Fast when it is alone: one dashboard takes one upstream delay, not five. But every
dashboard starts its five calls at once, whatever the others are doing, and the account
service accepts only 10 calls in flight from this service (429 beyond). And when one part
fails, gather raises at once and leaves the other four calls running.
"""

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
    answers = await asyncio.gather(*(fetch(part, user) for part in PARTS))
    return {"user": user, **dict(zip(PARTS, answers, strict=True))}
