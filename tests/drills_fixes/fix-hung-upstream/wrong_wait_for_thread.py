"""A wrong fix: asyncio.wait_for around a thread. The caller gets its 504 on time, but the
thread (and its connection) waits on forever: wait_for cancels the await, not the thread."""

import asyncio
import json
import os
import urllib.request

from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


def fetch(symbol: str) -> dict:
    with urllib.request.urlopen(f"{UPSTREAM_URL}/quote/{symbol}") as response:
        return json.load(response)


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/price/{symbol}")
async def price(symbol: str):
    try:
        return await asyncio.wait_for(asyncio.to_thread(fetch, symbol), 0.5)
    except TimeoutError:
        raise HTTPException(504, "the pricing feed did not answer in time") from None
