"""Valid: a def endpoint with urllib and a socket timeout: the thread gives up by itself."""

import json
import os
import urllib.request

from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/quote/{symbol}")
def quote(symbol: str):
    try:
        with urllib.request.urlopen(f"{UPSTREAM_URL}/quote/{symbol}", timeout=0.5) as response:
            return json.load(response)
    except TimeoutError:
        raise HTTPException(504, "the pricing service did not answer in time") from None
