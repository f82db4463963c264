"""Fix: keep the def endpoint, raise AnyIO's thread limiter in the lifespan."""

import os
from contextlib import asynccontextmanager

import anyio.to_thread
import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    # def endpoints share this limiter; 40 tokens by default
    anyio.to_thread.current_default_thread_limiter().total_tokens = 200
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/legacy/{item_id}")
def legacy(item_id: int):
    response = httpx.get(f"{UPSTREAM_URL}/legacy/{item_id}")
    return response.json()
