"""Wrong: ``run_in_executor(None, httpx.get(url))`` calls httpx.get on the loop first.

The blocking call runs before the executor sees anything (it is handed a Response,
which is not callable): the loop blocks and each request ends in a 500.
"""
# expect-fail: concurrent, responses, upstream-concurrency, loop-free

import asyncio
import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/weather/{city}")
async def weather(city: str):
    loop = asyncio.get_running_loop()
    response = await loop.run_in_executor(None, httpx.get(f"{UPSTREAM_URL}/weather/{city}"))  # noqa: ASYNC210 (the bug)
    return response.json()
