"""Dashboard: builds a user's page from five parts served by the account service upstream."""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")

app = FastAPI()
client = httpx.AsyncClient(base_url=UPSTREAM_URL)


@app.get("/dashboard/{user}")
async def dashboard(user: str):
    page = {"user": user}
    for part in PARTS:  # one part after another: each waits for the one before
        response = await client.get(f"/parts/{part}/{user}")
        response.raise_for_status()
        page[part] = response.json()
    return page
