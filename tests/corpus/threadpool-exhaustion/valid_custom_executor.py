"""Valid: run_in_executor on a ThreadPoolExecutor of 128 workers made in the lifespan."""

import asyncio
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    with ThreadPoolExecutor(max_workers=128) as pool:
        app.state.pool = pool
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    loop = asyncio.get_running_loop()
    fetch = functools.partial(httpx.get, f"{UPSTREAM_URL}/legacy/{item_id}", timeout=10)
    response = await loop.run_in_executor(app.state.pool, fetch)
    return response.json()
