"""Price service, fixed: every feed call has a timeout, so a hung call frees its thread."""

import json
import os
import urllib.error
import urllib.request

from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
FEED_TIMEOUT = 0.5  # seconds; the feed answers in 50 ms when it answers at all

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/price/{symbol}")
def price(symbol: str):
    try:
        # The timeout bounds each socket read: the blocked thread wakes up, raises, and
        # urllib closes the connection. A thread cannot be cancelled from outside.
        with urllib.request.urlopen(
            f"{UPSTREAM_URL}/quote/{symbol}", timeout=FEED_TIMEOUT
        ) as response:
            return json.load(response)
    except (TimeoutError, urllib.error.URLError):
        raise HTTPException(504, "the pricing feed did not answer in time") from None
