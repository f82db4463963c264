"""Orders through a real broker: arq on Redis, its worker a child process of the service.

``POST /orders`` enqueues the confirmation in Redis (``REDIS_URL``) under the job id
``order-<id>``, then answers 202: arq refuses a second job with an id that is queued,
running or has a kept result, so a client's retried order is not queued twice. The
lifespan starts ``python nb08_arq.py`` (this file) as the arq worker, in the service's
process group: a crash of the service is a crash of the whole box, worker included,
while Redis, elsewhere, keeps the queue. On shutdown the worker gets SIGTERM and, with
``job_completion_wait``, finishes the job in hand first.
"""

import asyncio
import contextlib
import logging
import os
import signal
import smtplib
import sys
from email.message import EmailMessage

from arq import create_pool, func, run_worker
from arq.connections import RedisSettings
from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
REDIS = RedisSettings.from_dsn(os.environ["REDIS_URL"])
JOB_TIMEOUT = 2  # seconds a send may take; arq's in-progress lock lasts this + 10 s

log = logging.getLogger("orders")


def send_email(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"  # the same on every try
    msg.set_content(f"Order {order_id} is on its way.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(msg)


async def send_confirmation(ctx: dict, order_id: str) -> None:
    await asyncio.to_thread(send_email, order_id)  # an exception: arq retries the job


class WorkerSettings:
    functions = [func(send_confirmation, timeout=JOB_TIMEOUT)]
    redis_settings = REDIS
    max_jobs = 4
    poll_delay = 0.1
    job_completion_wait = 5  # on SIGTERM: stop taking jobs, finish those in hand


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    worker = await asyncio.create_subprocess_exec(sys.executable, __file__)
    app.state.redis = await create_pool(REDIS)
    yield
    await app.state.redis.aclose()
    worker.send_signal(signal.SIGTERM)
    await worker.wait()


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    order_id: str


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    # In Redis before the 202; None when this order's job already exists.
    await app.state.redis.enqueue_job(
        "send_confirmation", order.order_id, _job_id=f"order-{order.order_id}"
    )
    return {"accepted": order.order_id}


if __name__ == "__main__":  # the worker process
    logging.basicConfig(level=logging.INFO, format="worker: %(message)s")
    run_worker(WorkerSettings)
