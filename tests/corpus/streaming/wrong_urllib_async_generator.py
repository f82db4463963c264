"""Wrong: the starter's bug with another library: urllib inside an async generator.

Each page wait blocks the event loop between rows, so the exports take turns.
"""
# expect-fail: first-row, concurrent, loop-free

import json
import os
import urllib.parse
import urllib.request

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


def fetch(report: str, after: str | None) -> dict:
    query = "" if after is None else "?" + urllib.parse.urlencode({"after": after})
    with urllib.request.urlopen(f"{UPSTREAM_URL}/rows/{report}{query}") as response:
        return json.load(response)


async def rows(report: str):
    page = fetch(report, None)
    while True:
        yield page["row"] + "\n"
        if page["next"] is None:
            break
        page = fetch(report, page["next"])


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
