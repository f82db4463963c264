"""A quote endpoint that gives up after 0.3 s by cancelling an awaited call."""

import asyncio
import os

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
client = httpx.AsyncClient(timeout=None)


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        async with asyncio.timeout(0.3):
            response = await client.get(f"{UPSTREAM_URL}/quote/{symbol}")
    except TimeoutError:
        raise HTTPException(504, "no answer in time") from None
    return response.json()
