"""Reports API, fixed: the middleware awaits one shared httpx.AsyncClient."""

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the permissions service answers in 0.3 s


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def check_permissions(request: Request, call_next):
    user = request.headers.get("x-user", "7")
    (await request.app.state.client.get(f"/legacy/{user}")).raise_for_status()
    return await call_next(request)


@app.get("/reports/{report_id}")
async def report(report_id: int):
    return {"report_id": report_id, "status": "ready"}
