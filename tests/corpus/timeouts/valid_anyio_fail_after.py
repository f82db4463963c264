"""Valid: anyio.fail_after around an AsyncClient opened per request; 504 on timeout."""

import os

import anyio
import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        with anyio.fail_after(0.5):
            async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=None) as client:
                response = await client.get(f"/quote/{symbol}")
    except TimeoutError:
        return JSONResponse({"detail": "pricing service timeout"}, status_code=504)
    return response.json()
