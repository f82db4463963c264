"""Wrong: drops timeout=None and relies on httpx's default timeout (5 s).

Every hang now ends, but after 5 s: users wait far past the deadline, and each hanging
connection and its worker thread are held for 5 s (45 hangs a second: the pool runs out).
"""
# expect-fail: deadline, cleanup

import os

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

client = httpx.Client(base_url=UPSTREAM_URL)

app = FastAPI()


@app.get("/quote/{symbol}")
def quote(symbol: str):
    try:
        response = client.get(f"/quote/{symbol}")
    except httpx.TimeoutException:
        raise HTTPException(504, "timeout") from None
    return response.json()
