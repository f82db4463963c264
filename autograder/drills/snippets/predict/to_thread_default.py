"""asyncio.to_thread on the default executor, at the size asyncio gives it by default.

The course's harness fixes the default executor at 40 workers; this lifespan puts back
what a stock asyncio loop would create: ThreadPoolExecutor() with no max_workers.
"""

import asyncio
import json
import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())  # the stock size
    yield


app = FastAPI(lifespan=lifespan)


def fetch(item_id: int) -> dict:
    with urllib.request.urlopen(f"{UPSTREAM_URL}/legacy/{item_id}", timeout=30) as r:
        return json.load(r)


@app.get("/items/{item_id}")
async def item(item_id: int):
    return await asyncio.to_thread(fetch, item_id)
