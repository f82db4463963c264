"""Valid: a def endpoint with urllib; the lifespan raises AnyIO's thread limiter to 150."""

import json
import os
import urllib.request
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    anyio.to_thread.current_default_thread_limiter().total_tokens = 150
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/legacy/{item_id}")
def legacy(item_id: int):
    with urllib.request.urlopen(f"{UPSTREAM_URL}/legacy/{item_id}", timeout=10) as response:
        return json.load(response)
