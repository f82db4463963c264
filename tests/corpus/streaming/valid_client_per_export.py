"""Valid: an AsyncClient opened per export inside the async generator; bytes, not str."""

import os

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


async def rows(report: str):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        after = None
        while True:
            params = {} if after is None else {"after": after}
            page = (await client.get(f"/rows/{report}", params=params)).json()
            yield (page["row"] + "\n").encode()
            after = page["next"]
            if after is None:
                return


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
