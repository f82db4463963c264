"""An async endpoint that waits 0.2 s with a blocking call."""

import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/work")
async def work():
    time.sleep(0.2)  # stands for a blocking client call that takes 0.2 s
    return {"done": True}
