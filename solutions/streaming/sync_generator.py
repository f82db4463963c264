"""Report export: a plain (sync) generator. Starlette runs each next() in its thread pool,
so each page wait holds a worker thread, not the event loop (one thread hop per row)."""

import os

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


def rows(report: str):
    with httpx.Client(base_url=UPSTREAM_URL) as client:
        page = client.get(f"/rows/{report}").json()
        while True:
            yield page["row"] + "\n"
            if page["next"] is None:
                break
            page = client.get(f"/rows/{report}", params={"after": page["next"]}).json()


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
