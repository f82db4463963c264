"""Uploads written with open() inside an async endpoint, to a slow network mount."""

import os
import time

from fastapi import FastAPI, Request

AUDIT_LOG = os.environ["AUDIT_LOG"]

app = FastAPI()


def write_to_share(path: str, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        time.sleep(0.1)  # stands for the network share's 100 ms write round trip


@app.post("/upload")
async def upload(request: Request):
    write_to_share(AUDIT_LOG, await request.body())
    return {"stored": True}


@app.get("/health")
async def health():
    return {"ok": True}
