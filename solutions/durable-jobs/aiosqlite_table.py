"""Fix: a job table in SQLite through aiosqlite (in JOBS_DIR), a worker pool in the lifespan.

As job_table.py, with aiosqlite (each connection's calls run in a thread of its own, the
loop only awaits them): commit before the 202, claim with a lease, send, mark done after;
release a dead process's claims at start-up; finish the job in hand on shutdown.
"""

import asyncio
import contextlib
import logging
import os
import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosqlite
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


def connect() -> aiosqlite.Connection:
    return aiosqlite.connect(DB, timeout=10, isolation_level=None)


async def init() -> None:
    async with connect() as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (order_id TEXT PRIMARY KEY, state TEXT NOT NULL,"
            " owner TEXT, lease_until REAL)"
        )
        # This is the only process: whatever an earlier one had claimed is unfinished.
        await db.execute(
            "UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL"
            " WHERE state = 'running' AND owner != ?",
            (ME,),
        )


async def enqueue(order_id: str) -> None:
    async with connect() as db:
        await db.execute("INSERT OR IGNORE INTO jobs VALUES (?, 'queued', NULL, NULL)", (order_id,))


async def claim() -> str | None:
    async with connect() as db:
        await db.execute("BEGIN IMMEDIATE")
        now = time.time()
        async with db.execute(
            "SELECT order_id FROM jobs WHERE (state = 'queued' AND coalesce(lease_until, 0) < ?)"
            " OR (state = 'running' AND lease_until < ?) ORDER BY rowid LIMIT 1",
            (now, now),
        ) as cur:
            row = await cur.fetchone()
        if row is not None:
            await db.execute(
                "UPDATE jobs SET state = 'running', owner = ?, lease_until = ? WHERE order_id = ?",
                (ME, now + LEASE, row[0]),
            )
        await db.execute("COMMIT")
    return row[0] if row else None


async def finish(order_id: str, *, ok: bool) -> None:
    async with connect() as db:
        if ok:
            await db.execute("UPDATE jobs SET state = 'done' WHERE order_id = ?", (order_id,))
        else:  # retried a little later
            await db.execute(
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
        order_id = await claim()
        if order_id is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL)
            continue
        # Not cancelled at shutdown: the job in hand is finished, then marked.
        ok = await asyncio.to_thread(send_confirmation, order_id)
        await finish(order_id, ok=ok)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await init()
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
    await enqueue(order.order_id)  # committed before the 202
    wake.set()
    return {"accepted": order.order_id}
