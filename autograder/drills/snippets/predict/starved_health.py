"""A slow synchronous SDK in a def endpoint, next to a def /health."""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
sdk = httpx.Client(base_url=UPSTREAM_URL, timeout=10)  # stands in for a vendor's sync SDK


@app.get("/reports/{report_id}")
def report(report_id: int):
    response = sdk.get(f"/sdk/reports/{report_id}")  # 0.3 s
    response.raise_for_status()
    return response.json()


@app.get("/health")
def health():
    return {"ok": True}
