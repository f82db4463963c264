"""Valid: a sync generator driven from an async one, each step in a thread under a
CapacityLimiter of its own (exports no longer share the 40 default tokens)."""

import os

import anyio
import anyio.to_thread
import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()
limiter = anyio.CapacityLimiter(100)


def pages(report: str):
    with httpx.Client(base_url=UPSTREAM_URL) as client:
        page = client.get(f"/rows/{report}").json()
        while True:
            yield page["row"] + "\n"
            if page["next"] is None:
                return
            page = client.get(f"/rows/{report}", params={"after": page["next"]}).json()


async def rows(report: str):
    it = pages(report)
    while (row := await anyio.to_thread.run_sync(next, it, None, limiter=limiter)) is not None:
        yield row


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
