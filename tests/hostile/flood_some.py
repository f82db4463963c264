"""A valid fix that first prints 16 MiB to stdout and 16 MiB to stderr."""

import asyncio
import sys

from fastapi import FastAPI

chunk = "y" * (1 << 20) + "\n"
for _ in range(16):
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)

app = FastAPI()


@app.get("/report")
async def report():
    await asyncio.sleep(0.3)
    return {"status": "ok"}
