"""Wrong: an async client that awaits every page, but collects all rows before answering.

The loop stays free and all exports finish together, but nobody sees a row until the
last one has arrived: half a second of empty download instead of a stream.
"""
# expect-fail: first-row

import os

import httpx
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/export/{report}")
async def export(report: str):
    lines = []
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        params = {}
        while True:
            page = (await client.get(f"/rows/{report}", params=params)).json()
            lines.append(page["row"] + "\n")
            if page["next"] is None:
                break
            params = {"after": page["next"]}
    return PlainTextResponse("".join(lines))
