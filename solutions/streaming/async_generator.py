"""Report export: an async generator that awaits each page, so the loop serves every export meanwhile."""

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


async def rows(client: httpx.AsyncClient, report: str):
    page = (await client.get(f"/rows/{report}")).json()
    while True:
        yield page["row"] + "\n"
        if page["next"] is None:
            break
        page = (await client.get(f"/rows/{report}", params={"after": page["next"]})).json()


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(app.state.client, report), media_type="text/plain")
