"""Orders through huey, a maintained task queue that needs no server: SqliteHuey in JOBS_DIR.

``POST /orders`` enqueues the task (committed to huey's SQLite file) before the 202. The
consumer's four worker threads run in this process, started in the lifespan (huey's own
``huey_consumer`` would be a separate process; its signal handlers are left to uvicorn
here). huey retries a task that raised (``retries=3``), but its SQLite storage deletes a
task from its table when a worker dequeues it, before running it.
"""

import asyncio
import contextlib
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from huey import SqliteHuey
from huey.consumer import Consumer
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])

huey = SqliteHuey("orders", filename=str(Path(os.environ.get("JOBS_DIR", ".")) / "huey.db"))


@huey.task(retries=3, retry_delay=1)
def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"
    msg.set_content(f"Order {order_id} is on its way.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(msg)


class InProcessConsumer(Consumer):
    def _set_signal_handlers(self) -> None:
        pass  # uvicorn owns SIGTERM and SIGINT in this process


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    consumer = InProcessConsumer(huey, workers=4, worker_type="thread", periodic=False)
    consumer.start()
    yield
    await asyncio.to_thread(consumer.stop, graceful=True)


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    order_id: str


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    await asyncio.to_thread(send_confirmation, order.order_id)  # enqueued (committed) first
    return {"accepted": order.order_id}
