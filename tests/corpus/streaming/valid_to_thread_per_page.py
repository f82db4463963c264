"""Valid: the starter's sync client, each page fetched with await asyncio.to_thread."""

import asyncio
import os

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
client = httpx.Client(base_url=UPSTREAM_URL, limits=httpx.Limits(max_connections=200))


async def rows(report: str):
    params = {}
    while True:
        response = await asyncio.to_thread(client.get, f"/rows/{report}", params=params)
        page = response.json()
        yield page["row"] + "\n"
        if page["next"] is None:
            break
        params = {"after": page["next"]}


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
