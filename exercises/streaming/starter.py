"""Report export: streams a report's rows, one line each, as the rows service hands them out."""

import os

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


async def rows(report: str):
    with httpx.Client(base_url=UPSTREAM_URL) as client:
        page = client.get(f"/rows/{report}").json()
        while True:
            yield page["row"] + "\n"
            if page["next"] is None:
                break
            # the rows service takes about 50 ms per page
            page = client.get(f"/rows/{report}", params={"after": page["next"]}).json()


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
