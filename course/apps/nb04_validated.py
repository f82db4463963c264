"""The legacy lookup with a response model: the same ``def`` endpoint, now declaring
what it returns (``-> Item``).

FastAPI validates the return value of a ``def`` endpoint in the thread pool too
(``serialize_response`` calls ``run_in_threadpool(field.validate, ...)``), so each request
borrows a limiter token twice: once for the call, once for the check of its answer. An
``async def`` endpoint's answer is validated on the loop.
"""

import os
from contextlib import asynccontextmanager

import httpx
import nb04_meter
from fastapi import FastAPI
from pydantic import BaseModel

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with nb04_meter.sampling():
        yield


app = FastAPI(lifespan=lifespan)
app.include_router(nb04_meter.router)


class Item(BaseModel):
    item_id: int
    name: str


@app.get("/legacy/{item_id}")
def legacy(item_id: int) -> Item:
    response = httpx.get(f"{UPSTREAM_URL}/legacy/{item_id}")
    return response.json()
