"""Price service: the latest price of a symbol, from the pricing feed (about 50 ms a call)."""

import json
import os
import urllib.request

from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/price/{symbol}")
def price(symbol: str):
    # The feed is slow at times: wait for it as long as it takes.
    with urllib.request.urlopen(f"{UPSTREAM_URL}/quote/{symbol}") as response:
        return json.load(response)
