"""Inventory lookups, fixed: the SDK pool is sized for the calls that wait on the network."""

import asyncio
import json
import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
# Threads that wait on I/O cost little: size the pool for the concurrency you expect.
SDK_POOL = ThreadPoolExecutor(max_workers=64)

app = FastAPI()


def sdk_lookup(item_id: int) -> dict:
    with urllib.request.urlopen(f"{UPSTREAM_URL}/legacy/{item_id}", timeout=30) as r:
        return json.load(r)


@app.get("/inventory/{item_id}")
async def inventory(item_id: int):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(SDK_POOL, sdk_lookup, item_id)
