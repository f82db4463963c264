"""Legacy catalogue lookup: a plain def endpoint calling the upstream inventory service."""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/legacy/{item_id}")
def legacy(item_id: int):
    response = httpx.get(f"{UPSTREAM_URL}/legacy/{item_id}")
    return response.json()
