"""Valid: asyncio.to_thread of a sync call that carries its own timeout (the thread ends)."""

import asyncio
import os

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

client = httpx.Client(base_url=UPSTREAM_URL, timeout=httpx.Timeout(5.0, read=0.5))

app = FastAPI()


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        response = await asyncio.to_thread(client.get, f"/quote/{symbol}")
    except httpx.ReadTimeout:
        raise HTTPException(504, "the pricing service did not answer in time") from None
    return response.json()
