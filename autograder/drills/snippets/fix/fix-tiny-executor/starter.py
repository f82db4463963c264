"""Inventory lookups through the vendor's synchronous SDK (the upstream, 0.3 s a call)."""

import asyncio
import json
import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
SDK_POOL = ThreadPoolExecutor(max_workers=2)  # "keep the thread count down"

app = FastAPI()


def sdk_lookup(item_id: int) -> dict:
    with urllib.request.urlopen(f"{UPSTREAM_URL}/legacy/{item_id}", timeout=30) as r:
        return json.load(r)


@app.get("/inventory/{item_id}")
async def inventory(item_id: int):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(SDK_POOL, sdk_lookup, item_id)
