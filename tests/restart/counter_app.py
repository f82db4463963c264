"""Counts its starts in JOBS_DIR; records a graceful stop there; says what it found."""

import contextlib
import os
import subprocess
from pathlib import Path

from fastapi import FastAPI

STATE = Path(os.environ["JOBS_DIR"])
starts = int((STATE / "starts").read_text()) if (STATE / "starts").exists() else 0
(STATE / "starts").write_text(str(starts + 1))
if (STATE / "fail-next-start").exists():
    raise RuntimeError("refusing to start again")


@contextlib.asynccontextmanager
async def lifespan(app):
    yield
    (STATE / "stopped-gracefully").write_text("yes")


app = FastAPI(lifespan=lifespan)


@app.get("/state")
async def state():
    return {
        "starts": starts + 1,
        "graceful": (STATE / "stopped-gracefully").exists(),
        "jobs_dir": str(STATE),
    }


@app.post("/child")
def child():
    proc = subprocess.Popen(["sleep", "60"])
    return {"pid": proc.pid}


@app.post("/fail-next-start")
async def fail_next():
    (STATE / "fail-next-start").write_text("yes")
    return {}
