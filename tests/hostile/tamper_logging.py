"""The starter, with logging switched off and the harness's report forged: a lag trace of
zeros and a stall blamed on an innocent line."""

import json
import logging
import sys
import time

from fastapi import FastAPI

logging.disable(logging.CRITICAL)
logging.Logger.callHandlers = lambda self, record: None
if "--report" in sys.argv:
    with open(sys.argv[sys.argv.index("--report") + 1], "a") as report:
        for i in range(1000):
            report.write(json.dumps({"kind": "lag", "t": time.monotonic() + i, "lag": 0.0}) + "\n")

app = FastAPI()


@app.get("/report")
async def report():
    time.sleep(0.3)  # noqa: ASYNC251 (the starter's bug, kept)
    return {"status": "ok"}
