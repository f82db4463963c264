"""durable-jobs: commits each order to a job table in JOBS_DIR, but no worker ever runs."""

import asyncio
import os
import sqlite3
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

DB = Path(os.environ["JOBS_DIR"]) / "jobs.sqlite3"
app = FastAPI()


class Order(BaseModel):
    order_id: str


def enqueue(order_id: str) -> None:
    with sqlite3.connect(DB) as db:
        db.execute("CREATE TABLE IF NOT EXISTS jobs (order_id TEXT PRIMARY KEY)")
        db.execute("INSERT OR IGNORE INTO jobs VALUES (?)", (order_id,))


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    await asyncio.to_thread(enqueue, order.order_id)
    return {"accepted": order.order_id}
