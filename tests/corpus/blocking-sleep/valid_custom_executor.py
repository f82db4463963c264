"""Valid: the blocking sleep in a ThreadPoolExecutor of our own, via run_in_executor."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI

app = FastAPI()
pool = ThreadPoolExecutor(max_workers=32)


@app.get("/report")
async def report():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, time.sleep, 0.3)
    return {"status": "ok"}
