"""An endpoint that waits 0.3 s the asynchronous way."""

import asyncio

from fastapi import FastAPI

app = FastAPI()


@app.get("/work")
async def work():
    await asyncio.sleep(0.3)  # stands for 0.3 s of waiting on the network
    return {"done": True}
