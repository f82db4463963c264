"""Quote service: the same def endpoint and sync client, with a timeout. The thread gives
up by itself after 0.5 s (nothing outside a thread can stop it) and closes the connection."""

import os

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

client = httpx.Client(base_url=UPSTREAM_URL, timeout=0.5)

app = FastAPI()


@app.get("/quote/{symbol}")
def quote(symbol: str):
    try:
        response = client.get(f"/quote/{symbol}")
    except httpx.TimeoutException:
        raise HTTPException(504, "the pricing service did not answer in time") from None
    return response.json()
