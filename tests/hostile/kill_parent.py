"""The starter, plus an attempt to kill the grader: its parent, and its parent's group."""

import contextlib
import os
import signal
import time

from fastapi import FastAPI

for attempt in (
    lambda: os.kill(os.getppid(), signal.SIGKILL),
    lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL),
    lambda: os.kill(os.getppid(), signal.SIGTERM),
):
    with contextlib.suppress(OSError):
        attempt()

app = FastAPI()


@app.get("/report")
async def report():
    time.sleep(0.3)  # noqa: ASYNC251 (the starter's bug, kept)
    return {"status": "ok"}
