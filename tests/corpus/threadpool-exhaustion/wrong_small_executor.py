"""Wrong: run_in_executor on a custom ThreadPoolExecutor of only 32 workers."""
# expect-fail: upstream-concurrency

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
pool = ThreadPoolExecutor(max_workers=32)


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    loop = asyncio.get_running_loop()
    response = await loop.run_in_executor(pool, httpx.get, f"{UPSTREAM_URL}/legacy/{item_id}")
    return response.json()
