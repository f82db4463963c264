"""Wrong: httpx swapped for urllib, still synchronous inside async def.

A different library, the same bug: the loop waits for every upstream answer.
"""
# expect-fail: concurrent, upstream-concurrency, loop-free

import json
import os
import urllib.request

from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/weather/{city}")
async def weather(city: str):
    with urllib.request.urlopen(f"{UPSTREAM_URL}/weather/{city}", timeout=10) as response:  # noqa: ASYNC210 (the bug)
        return json.load(response)
