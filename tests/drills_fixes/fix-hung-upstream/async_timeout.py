"""Price service, fixed another way: an awaited call under asyncio.timeout, cancelled on time."""

import asyncio
import os

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
client = httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None)


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/price/{symbol}")
async def price(symbol: str):
    try:
        async with asyncio.timeout(0.5):  # cancels the await; httpx closes the connection
            response = await client.get(f"/quote/{symbol}")
    except TimeoutError:
        raise HTTPException(504, "the pricing feed did not answer in time") from None
    return response.json()
