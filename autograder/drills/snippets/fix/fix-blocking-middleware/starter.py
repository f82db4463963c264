"""Reports API behind a middleware that asks the permissions service about every request."""

import os

import httpx
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the permissions service answers in 0.3 s

app = FastAPI()


@app.middleware("http")
async def check_permissions(request: Request, call_next):
    user = request.headers.get("x-user", "7")
    httpx.get(f"{UPSTREAM_URL}/legacy/{user}").raise_for_status()
    return await call_next(request)


@app.get("/reports/{report_id}")
async def report(report_id: int):
    return {"report_id": report_id, "status": "ready"}
