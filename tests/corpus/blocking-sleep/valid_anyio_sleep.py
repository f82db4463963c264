"""Valid: anyio.sleep, AnyIO's non-blocking wait."""

import anyio
from fastapi import FastAPI

app = FastAPI()


@app.get("/report")
async def report():
    await anyio.sleep(0.3)
    return {"status": "ok"}
