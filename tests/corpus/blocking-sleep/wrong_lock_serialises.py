"""Wrong: asyncio.sleep behind an asyncio.Lock.

The loop stays free (probes pass), but the lock lets one report wait at a time:
20 reports take 6 s, the starter's figure, in another form.
"""
# expect-fail: concurrent

import asyncio

from fastapi import FastAPI

app = FastAPI()
lock = asyncio.Lock()


@app.get("/report")
async def report():
    async with lock:
        await asyncio.sleep(0.3)
    return {"status": "ok"}
