"""Valid: a shared AsyncClient handed out by a dependency, under an asyncio.Semaphore(100).

The semaphore bounds concurrency well above the 20 requests measured: nothing queues.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
slots = asyncio.Semaphore(100)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


async def upstream(request: Request) -> AsyncIterator[httpx.AsyncClient]:
    async with slots:
        yield request.app.state.client


@app.get("/weather/{city}")
async def weather(city: str, client: Annotated[httpx.AsyncClient, Depends(upstream)]):
    response = await client.get(f"/weather/{city}")
    return response.json()
