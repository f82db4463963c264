"""Weather proxy: forwards /weather/{city} to the upstream weather service."""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/weather/{city}")
async def weather(city: str):
    response = httpx.get(f"{UPSTREAM_URL}/weather/{city}")
    return response.json()
