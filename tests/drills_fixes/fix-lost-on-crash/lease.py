"""Order confirmations sent by a worker from a job table in SQLite (JOBS_DIR).

Valid fix: a job is claimed with a lease of one second (a send takes 0.3 s). A claim
that outlives its lease (its process died) may be taken again by any worker; the job is
removed only once the email was accepted. No reset at start-up.
"""

import asyncio
import contextlib
import os
import smtplib
import sqlite3
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

DB = Path(os.environ["JOBS_DIR"]) / "jobs.sqlite3"
WORKERS = 4
ME = uuid.uuid4().hex  # this process, on its claims
LEASE = 1.0  # seconds; longer than a send


def connect() -> sqlite3.Connection:
    return sqlite3.connect(DB, timeout=10, isolation_level=None)


def init() -> None:
    with contextlib.closing(connect()) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (order_id TEXT PRIMARY KEY, owner TEXT, until REAL)"
        )


def enqueue(order_id: str) -> None:
    with contextlib.closing(connect()) as db:
        db.execute("INSERT OR IGNORE INTO jobs VALUES (?, NULL, 0)", (order_id,))


def take() -> str | None:
    """The next unclaimed job, claimed so that no other worker sends it too."""
    with contextlib.closing(connect()) as db:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT order_id FROM jobs WHERE until < ? ORDER BY rowid LIMIT 1", (time.time(),)
        ).fetchone()
        if row:
            db.execute(
                "UPDATE jobs SET owner = ?, until = ? WHERE order_id = ?",
                (ME, time.time() + LEASE, row[0]),
            )
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
