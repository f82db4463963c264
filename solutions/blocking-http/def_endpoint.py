"""Fix: keep the sync client, make the endpoint a plain def (runs in a worker thread)."""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/weather/{city}")
def weather(city: str):
    response = httpx.get(f"{UPSTREAM_URL}/weather/{city}")
    return response.json()
