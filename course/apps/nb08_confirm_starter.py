"""Order confirmations from a job table in SQLite (JOBS_DIR): survives a restart, or does it?

``POST /orders`` commits the job, then answers 202; four workers started in the lifespan
take jobs from the table and email the confirmation. A crash while emails are being sent
loses them: find out why, and fix it so that every accepted order gets its email after
the service is killed and started again (at least once, with the same Message-ID).
"""

import asyncio
import contextlib
import os
import smtplib
import sqlite3
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
DB = Path(os.environ.get("JOBS_DIR", ".")) / "confirmations.sqlite3"
WORKERS = 4


def sql(query: str, *params: object) -> list[tuple]:
    """One statement in its own transaction (BEGIN IMMEDIATE: two workers never take one job)."""
    with contextlib.closing(sqlite3.connect(DB, timeout=10, isolation_level="IMMEDIATE")) as db:
        with db:
            return db.execute(query, params).fetchall()


def init() -> None:
    sql("PRAGMA journal_mode=WAL")
    sql("CREATE TABLE IF NOT EXISTS jobs (order_id TEXT PRIMARY KEY, state TEXT)")


def take() -> str | None:
    """The oldest queued job, marked done so that no other worker takes it too."""
    rows = sql(
        "UPDATE jobs SET state = 'done' WHERE order_id = (SELECT order_id FROM jobs"
        " WHERE state = 'queued' ORDER BY rowid LIMIT 1) RETURNING order_id"
    )
    return rows[0][0] if rows else None


def send_email(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"  # the same on every try
    msg.set_content(f"Order {order_id} is on its way.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(msg)


stopping = asyncio.Event()


async def worker() -> None:
    while not stopping.is_set():
        order_id = await asyncio.to_thread(take)
        if order_id is None:
            await asyncio.sleep(0.05)
            continue
        await asyncio.to_thread(send_email, order_id)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await asyncio.to_thread(init)
    workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
    yield
    stopping.set()  # not cancelled: each finishes the job in hand
    await asyncio.gather(*workers)


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    order_id: str


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    await asyncio.to_thread(sql, "INSERT OR IGNORE INTO jobs VALUES (?, 'queued')", order.order_id)
    return {"accepted": order.order_id}
