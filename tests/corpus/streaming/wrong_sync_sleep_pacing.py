"""Wrong: awaits the rows service, but "paces" the stream with time.sleep between rows.

The extra blocking wait in the async generator freezes the loop for every export.
"""
# expect-fail: loop-free, concurrent

import os
import time

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


async def rows(report: str):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        params = {}
        while True:
            page = (await client.get(f"/rows/{report}", params=params)).json()
            yield page["row"] + "\n"
            if page["next"] is None:
                break
            params = {"after": page["next"]}
            time.sleep(0.02)  # noqa: ASYNC251 (the bug: "lets the client catch up")


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
