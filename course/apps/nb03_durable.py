"""Notebook 03: the receipt job from nb03_tasks, in a durable SQLite job table.

The endpoint commits the job to the table before it answers; a worker task, started
in the lifespan, drains the table. The table is a file next to this module, so a job
accepted by a process that was then killed is still there when the app starts again.
"""

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from fastapi import FastAPI
from nb03_jobqueue import Job, JobQueue

RENDER_TIME = 1.0
SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
JOBS_DB = Path(__file__).with_name("jobs.sqlite3")

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("shop.jobs")
queue = JobQueue(JOBS_DB)
wake = asyncio.Event()


async def send_receipt(order: str) -> None:
    await asyncio.sleep(RENDER_TIME)  # rendering the receipt
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "customer@example.com"
    msg["Subject"] = f"Receipt for order {order}"
    msg.set_content(f"Thank you for order {order}.")
    await aiosmtplib.send(msg, hostname=SMTP_HOST, port=SMTP_PORT, timeout=10)


async def run(job: Job) -> None:
    if job.kind == "receipt":
        await send_receipt(job.payload["order"])
    else:
        raise ValueError(f"unknown job kind {job.kind!r}")


async def worker() -> None:
    while True:
        wake.clear()  # before claiming: a job enqueued after this point sets it again
        job = await asyncio.to_thread(queue.claim)
        if job is None:
            await wake.wait()
            continue
        log.info("job %d (%s) attempt %d", job.id, job.kind, job.attempts)
        try:
            await run(job)
        except Exception as exc:
            log.exception("job %d failed", job.id)
            await asyncio.to_thread(queue.finish, job.id, repr(exc))
        else:
            await asyncio.to_thread(queue.finish, job.id)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    requeued = await asyncio.to_thread(queue.requeue_interrupted)
    if requeued:
        log.warning("%d job(s) interrupted by the last shutdown are queued again", requeued)
    task = asyncio.create_task(worker())
    yield
    task.cancel()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.post("/receipts/{order}", status_code=202)
async def receipt(order: str) -> dict[str, object]:
    job_id = await asyncio.to_thread(queue.enqueue, "receipt", {"order": order})
    wake.set()
    return {"accepted": order, "job": job_id}


@app.get("/jobs")
async def jobs() -> list[dict[str, object]]:
    return await asyncio.to_thread(queue.jobs)
