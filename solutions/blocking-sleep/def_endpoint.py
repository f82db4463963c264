"""Fix: a plain def endpoint; FastAPI runs it in a worker thread (AnyIO, 40 tokens)."""

import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/report")
def report():
    time.sleep(0.3)  # blocks a worker thread, not the event loop
    return {"status": "ok"}
