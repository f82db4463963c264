"""Wrong: anyio.fail_after around anyio.to_thread.run_sync, the way a def endpoint runs.

run_sync shields the wait for its thread from cancellation (abandon_on_cancel is off),
so the timeout never fires: a hanging quote is never answered.
"""
# expect-fail: deadline, cleanup

import os

import anyio
import anyio.to_thread
import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

client = httpx.Client(base_url=UPSTREAM_URL, timeout=None)

app = FastAPI()


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    try:
        with anyio.fail_after(0.5):
            response = await anyio.to_thread.run_sync(client.get, f"/quote/{symbol}")
    except TimeoutError:
        raise HTTPException(504, "timeout") from None
    return response.json()
