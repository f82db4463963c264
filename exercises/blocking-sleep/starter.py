"""Monthly report service. Each report takes 0.3 s of (simulated) work."""

import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/report")
async def report():
    time.sleep(0.3)  # simulated work
    return {"status": "ok"}
