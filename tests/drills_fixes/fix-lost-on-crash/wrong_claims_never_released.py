"""Order confirmations sent by a worker from a job table in SQLite (JOBS_DIR).

Wrong fix: a job is claimed, not taken off the table, and removed once sent; but the
claims of a process that died are never released, so its jobs wait forever.
"""

import asyncio
import contextlib
import os
import smtplib
import sqlite3
import uuid
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

DB = Path(os.environ["JOBS_DIR"]) / "jobs.sqlite3"
WORKERS = 4
ME = uuid.uuid4().hex  # this process, on its claims


def connect() -> sqlite3.Connection:
    return sqlite3.connect(DB, timeout=10, isolation_level=None)


def init() -> None:
    with contextlib.closing(connect()) as db:
        db.execute("CREATE TABLE IF NOT EXISTS jobs (order_id TEXT PRIMARY KEY, owner TEXT)")


def enqueue(order_id: str) -> None:
    with contextlib.closing(connect()) as db:
        db.execute("INSERT OR IGNORE INTO jobs VALUES (?, NULL)", (order_id,))


def take() -> str | None:
    """The next unclaimed job, claimed so that no other worker sends it too."""
    with contextlib.closing(connect()) as db:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT order_id FROM jobs WHERE owner IS NULL ORDER BY rowid LIMIT 1"
        ).fetchone()
        if row:
            db.execute("UPDATE jobs SET owner = ? WHERE order_id = ?", (ME, row[0]))
        db.execute("COMMIT")
    return row[0] if row else None


def done(order_id: str) -> None:
    with contextlib.closing(connect()) as db:
        db.execute("DELETE FROM jobs WHERE order_id = ?", (order_id,))


def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = "shop@example.com", "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"
    msg.set_content(f"Order {order_id} is on its way.")
    with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"]), timeout=10) as smtp:
        smtp.send_message(msg)


stopping = asyncio.Event()


async def worker() -> None:
    while not stopping.is_set():
        order_id = await asyncio.to_thread(take)
        if order_id is None:
            await asyncio.sleep(0.1)
            continue
        await asyncio.to_thread(send_confirmation, order_id)
        await asyncio.to_thread(done, order_id)  # only once the email was accepted


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await asyncio.to_thread(init)
    workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
    yield
    stopping.set()
    await asyncio.gather(*workers)


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    order_id: str


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    await asyncio.to_thread(enqueue, order.order_id)
    return {"accepted": order.order_id}
