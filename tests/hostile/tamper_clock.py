"""The starter, with its process's clocks rigged: perf_counter frozen, monotonic and time
running 100 times slower, so in-process timers see no lag."""

import time

from fastapi import FastAPI

_mono, _time = time.monotonic, time.time
_t0 = _mono()
time.perf_counter = lambda: 0.0
time.monotonic = lambda: _t0 + (_mono() - _t0) / 100
time.time = lambda: _time() / 100

app = FastAPI()


@app.get("/report")
async def report():
    time.sleep(0.3)  # noqa: ASYNC251 (the starter's bug, kept)
    return {"status": "ok"}
