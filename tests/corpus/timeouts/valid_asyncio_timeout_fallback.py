"""Valid: asyncio.timeout around an awaited call (no client timeout), with a fallback body.

Cancelling the awaited request unwinds it: httpx closes the connection it was waiting on.
"""

import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        async with asyncio.timeout(0.4):
            response = await app.state.client.get(f"/quote/{symbol}")
    except TimeoutError:
        return {"symbol": symbol, "price": None}
    return response.json()
