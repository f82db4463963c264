"""Wrong: skips the rows service and streams rows it makes up itself, at the same pace.

Fast and free, but the rows are not the report's.
"""
# expect-fail: rows

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


async def rows(report: str):
    for i in range(10):
        await asyncio.sleep(0.05)
        yield f"{report},{i}\n"


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
