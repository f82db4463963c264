"""An async endpoint calling a 0.3 s upstream with httpx's synchronous API."""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/weather/{city}")
async def weather(city: str):
    return httpx.get(f"{UPSTREAM_URL}/weather/{city}").json()
