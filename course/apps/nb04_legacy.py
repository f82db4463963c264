"""Legacy catalogue lookup: a plain ``def`` endpoint calling the upstream with a sync client.

Correct, and it never blocks the event loop: FastAPI runs a ``def`` endpoint in a worker
thread. But every request holds one of the thread limiter's 40 tokens for as long as
the upstream takes to answer.
"""

import os
from contextlib import asynccontextmanager

import httpx
import nb04_meter
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with nb04_meter.sampling():
        yield


app = FastAPI(lifespan=lifespan)
app.include_router(nb04_meter.router)


@app.get("/legacy/{item_id}")
def legacy(item_id: int):
    response = httpx.get(f"{UPSTREAM_URL}/legacy/{item_id}")
    return response.json()
