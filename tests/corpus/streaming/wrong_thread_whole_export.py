"""Wrong: the sync walk moves to a thread, but as one call that returns the whole list.

The loop stays free, yet every export is buffered: its first row waits for its last.
"""
# expect-fail: first-row

import asyncio
import os

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


def all_rows(report: str) -> list[str]:
    out = []
    with httpx.Client(base_url=UPSTREAM_URL) as client:
        params = {}
        while True:
            page = client.get(f"/rows/{report}", params=params).json()
            out.append(page["row"] + "\n")
            if page["next"] is None:
                return out
            params = {"after": page["next"]}


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(iter(await asyncio.to_thread(all_rows, report)))
