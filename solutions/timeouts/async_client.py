"""Quote service: an async client with a timeout; a quote the upstream does not answer in
time gets 504, and cancelling the awaited call closes its connection."""

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=0.5) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        response = await app.state.client.get(f"/quote/{symbol}")
    except httpx.TimeoutException:
        raise HTTPException(504, "the pricing service did not answer in time") from None
    return response.json()
