"""Valid: a ThreadPoolExecutor made in the lifespan; urllib runs in it via run_in_executor."""

import asyncio
import json
import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


def fetch(city: str) -> Any:
    with urllib.request.urlopen(f"{UPSTREAM_URL}/weather/{city}", timeout=10) as response:
        return json.load(response)


@asynccontextmanager
async def lifespan(app: FastAPI):
    with ThreadPoolExecutor(max_workers=50) as pool:
        app.state.pool = pool
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/weather/{city}")
async def weather(city: str):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(app.state.pool, fetch, city)
