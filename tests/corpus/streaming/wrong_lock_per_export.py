"""Wrong: a correct async stream, but one asyncio.Lock held for a whole export.

The loop stays free; the exports stream one after another instead of together.
"""
# expect-fail: first-row, concurrent

import asyncio
import os

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
lock = asyncio.Lock()


async def rows(report: str):
    async with lock, httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        params = {}
        while True:
            page = (await client.get(f"/rows/{report}", params=params)).json()
            yield page["row"] + "\n"
            if page["next"] is None:
                break
            params = {"after": page["next"]}


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
