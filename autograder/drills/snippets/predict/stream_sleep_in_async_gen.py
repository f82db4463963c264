"""An export streamed by an async generator that waits 50 ms per line with time.sleep."""

import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


async def lines():
    for i in range(10):
        time.sleep(0.05)  # the next line from a slow source
        yield f"line {i}\n"


@app.get("/export")
async def export():
    return StreamingResponse(lines(), media_type="text/plain")
