"""Fix 1: keep the ``def`` endpoint, give AnyIO's thread limiter more tokens in the lifespan."""

import os
from contextlib import asynccontextmanager

import anyio.to_thread
import httpx
import nb04_meter
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Every def endpoint and def dependency shares this one limiter: 40 tokens by default.
    # Set it here, inside the running loop: the limiter belongs to the loop.
    anyio.to_thread.current_default_thread_limiter().total_tokens = 200
    async with nb04_meter.sampling():
        yield


app = FastAPI(lifespan=lifespan)
app.include_router(nb04_meter.router)


@app.get("/legacy/{item_id}")
def legacy(item_id: int):
    response = httpx.get(f"{UPSTREAM_URL}/legacy/{item_id}")
    return response.json()
