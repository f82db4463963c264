"""Legacy catalogue lookup: a plain ``def`` endpoint calling the upstream with a sync client.

Correct, and the event loop stays free while it waits: FastAPI runs a ``def`` endpoint
in a worker thread, and a thread waiting on a socket does not hold the GIL (a ``def``
endpoint computing in pure Python would still starve the loop: notebook 05). But every
request holds one of the thread limiter's 40 tokens (per event loop, i.e. per worker
process) for as long as the upstream takes to answer.
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
