"""Broken: the process exits from inside a handler, on the third request."""

import os

from fastapi import FastAPI

app = FastAPI()
served = 0


@app.get("/report")
async def report():
    global served
    served += 1
    if served == 3:
        os._exit(7)
    return {"status": "ok"}
