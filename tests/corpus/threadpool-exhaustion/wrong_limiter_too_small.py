"""Wrong: the thread limiter is raised, but only to 50: still two waves for 100 requests."""
# expect-fail: upstream-concurrency

import os
from contextlib import asynccontextmanager

import anyio.to_thread
import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    anyio.to_thread.current_default_thread_limiter().total_tokens = 50
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/legacy/{item_id}")
def legacy(item_id: int):
    response = httpx.get(f"{UPSTREAM_URL}/legacy/{item_id}")
    return response.json()
