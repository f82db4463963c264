"""Valid: the job table on one sqlite3 connection shared by the worker threads under a
threading.Lock (every call still in a thread, never on the loop)."""

import asyncio
import contextlib
import logging
import os
import smtplib
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
DB = Path(os.environ.get("JOBS_DIR", ".")) / "jobs.sqlite3"
WORKERS = 4
LEASE = 30.0  # seconds a claim holds before another worker may take the job over
POLL = 0.2
ME = uuid.uuid4().hex  # this process's name on its leases

log = logging.getLogger("orders")


_conn: sqlite3.Connection | None = None
_lock = threading.Lock()


@contextlib.contextmanager
def connect() -> Iterator[sqlite3.Connection]:
    global _conn
    with _lock:
        if _conn is None:
            _conn = sqlite3.connect(DB, timeout=10, isolation_level=None, check_same_thread=False)
            _conn.execute("PRAGMA journal_mode=WAL")
        yield _conn


def init() -> None:
    with connect() as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (order_id TEXT PRIMARY KEY, state TEXT NOT NULL,"
            " owner TEXT, lease_until REAL)"
        )
        # This is the only process: whatever an earlier one had claimed is unfinished.
        db.execute(
            "UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL"
            " WHERE state = 'running' AND owner != ?",
            (ME,),
        )


def enqueue(order_id: str) -> None:
    with connect() as db:
        db.execute("INSERT OR IGNORE INTO jobs VALUES (?, 'queued', NULL, NULL)", (order_id,))


def claim() -> str | None:
    with connect() as db:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT order_id FROM jobs WHERE (state = 'queued' AND coalesce(lease_until, 0) < ?)"
            " OR (state = 'running' AND lease_until < ?) ORDER BY rowid LIMIT 1",
            (time.time(), time.time()),
        ).fetchone()
        if row is not None:
            db.execute(
                "UPDATE jobs SET state = 'running', owner = ?, lease_until = ? WHERE order_id = ?",
                (ME, time.time() + LEASE, row[0]),
            )
        db.execute("COMMIT")
    return row[0] if row else None


def finish(order_id: str, *, ok: bool) -> None:
    with connect() as db:
        if ok:
            db.execute("UPDATE jobs SET state = 'done' WHERE order_id = ?", (order_id,))
        else:  # retried a little later
            db.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, lease_until = ? WHERE order_id = ?",
                (time.time() + 1.0, order_id),
            )


def send_confirmation(order_id: str) -> bool:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"
    msg.set_content(f"Order {order_id} is on its way.")
    try:
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
            smtp.send_message(msg)
        return True
    except (OSError, smtplib.SMTPException):
        log.exception("confirmation email for order %s failed", order_id)
        return False


stopping = asyncio.Event()
wake = asyncio.Event()


async def worker() -> None:
    while not stopping.is_set():
        wake.clear()
        order_id = await asyncio.to_thread(claim)
        if order_id is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL)
            continue
        # Not cancelled at shutdown: the job in hand is finished, then marked.
        ok = await asyncio.to_thread(send_confirmation, order_id)
        await asyncio.to_thread(finish, order_id, ok=ok)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await asyncio.to_thread(init)
    workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
    yield
    stopping.set()
    wake.set()
    await asyncio.gather(*workers)


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    order_id: str


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    await asyncio.to_thread(enqueue, order.order_id)  # committed before the 202
    wake.set()
    return {"accepted": order.order_id}
