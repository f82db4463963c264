"""Valid: anyio.to_thread.run_sync (the call FastAPI itself uses for def endpoints)."""

import time

import anyio.to_thread
from fastapi import FastAPI

app = FastAPI()


@app.get("/report")
async def report():
    await anyio.to_thread.run_sync(time.sleep, 0.3)
    return {"status": "ok"}
