"""Orders through the course's job table: SQLite in JOBS_DIR, claims with a lease.

``POST /orders`` commits a ``queued`` row, then answers 202. Four workers, started in the
lifespan, each claim the oldest job they may take (state ``running``, this process as
owner, a lease until now + LEASE), send, and only then mark it ``done``. A job whose
lease ran out is taken over by any worker (another process on the same machine, say);
at start-up this process also puts back every job an earlier process held, without
waiting for the lease: one process per table, so those owners are dead. On SIGTERM the
workers stop claiming and finish the job in hand. Every sqlite3 call runs in a thread.
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

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
DB = Path(os.environ.get("JOBS_DIR", ".")) / "orders.sqlite3"
WORKERS = 4
LEASE = 30.0  # seconds a claim holds before any worker may take the job over
ME = uuid.uuid4().hex  # this process, as the owner of its claims


def sql(query: str, *params: object) -> list[tuple]:
    """One statement in its own transaction (BEGIN IMMEDIATE: claims never race)."""
    with contextlib.closing(sqlite3.connect(DB, timeout=10, isolation_level="IMMEDIATE")) as db:
        with db:
            return db.execute(query, params).fetchall()


def init() -> None:
    sql("PRAGMA journal_mode=WAL")
    sql(
        "CREATE TABLE IF NOT EXISTS jobs (order_id TEXT PRIMARY KEY, state TEXT,"
        " owner TEXT, lease_until REAL, tries INTEGER DEFAULT 0)"
    )
    sql("UPDATE jobs SET state = 'queued', owner = NULL WHERE state = 'running' AND owner != ?", ME)


def claim() -> str | None:
    rows = sql(
        "UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, tries = tries + 1"
        " WHERE order_id = (SELECT order_id FROM jobs WHERE state = 'queued'"
        "  OR (state = 'running' AND lease_until < ?) ORDER BY rowid LIMIT 1)"
        " RETURNING order_id",
        ME,
        time.time() + LEASE,
        time.time(),
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
        order_id = await asyncio.to_thread(claim)
        if order_id is None:
            await asyncio.sleep(0.05)
            continue
        try:
            await asyncio.to_thread(send_email, order_id)
        except (OSError, smtplib.SMTPException):  # queued again, tried again
            await asyncio.to_thread(
                sql, "UPDATE jobs SET state = 'queued' WHERE order_id = ?", order_id
            )
        else:  # done only once the mail server has accepted it
            await asyncio.to_thread(
                sql, "UPDATE jobs SET state = 'done' WHERE order_id = ?", order_id
            )


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
    # Committed before the 202; a repeated order id is one job.
    await asyncio.to_thread(
        sql, "INSERT OR IGNORE INTO jobs (order_id, state) VALUES (?, 'queued')", order.order_id
    )
    return {"accepted": order.order_id}
