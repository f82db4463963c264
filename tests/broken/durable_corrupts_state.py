"""durable-jobs: a job table in JOBS_DIR that a restart finds scribbled over (as a torn
write would leave it) and cannot open: the lifespan's start-up raises."""

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

DB = Path(os.environ["JOBS_DIR"]) / "jobs.sqlite3"
if DB.exists():
    DB.write_bytes(b"not a database, whatever it was" * 200)


def init() -> int:
    with contextlib.closing(sqlite3.connect(DB)) as db:
        db.execute("CREATE TABLE IF NOT EXISTS jobs (order_id TEXT PRIMARY KEY)")
        return db.execute("SELECT count(*) FROM jobs").fetchone()[0]


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await asyncio.to_thread(init)
    yield


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    order_id: str


def enqueue(order_id: str) -> None:
    with contextlib.closing(sqlite3.connect(DB)) as db, db:
        db.execute("INSERT OR IGNORE INTO jobs VALUES (?)", (order_id,))


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    await asyncio.to_thread(enqueue, order.order_id)
    return {"accepted": order.order_id}
