"""Quote service: the latest price of a symbol, from the upstream pricing service."""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

# Never give up on a quote: the pricing service is slow at times.
client = httpx.Client(base_url=UPSTREAM_URL, timeout=None)

app = FastAPI()


@app.get("/quote/{symbol}")
def quote(symbol: str):
    response = client.get(f"/quote/{symbol}")
    return response.json()
