"""durable-jobs: a valid job table whose start-up hangs forever once it has run before (its
lifespan waits for a lock file the dead process never removed)."""

import contextlib
import os
import time
from pathlib import Path

from fastapi import FastAPI

LOCK = Path(os.environ["JOBS_DIR"]) / "started.lock"


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    while LOCK.exists():  # the previous process's lock: never removed after a crash
        time.sleep(0.5)  # noqa: ASYNC251 (the bug on purpose: a hang at start-up)
    LOCK.write_text(str(os.getpid()))
    yield
    LOCK.unlink()


app = FastAPI(lifespan=lifespan)


@app.post("/orders", status_code=202)
async def create_order(order: dict):
    return {"accepted": order["order_id"]}
