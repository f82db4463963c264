"""Orders whose confirmation email is a huey task, queued in SQLite in JOBS_DIR; two huey
worker threads send them (the mail provider takes two connections at a time)."""

import asyncio
import contextlib
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from huey import SqliteHuey
from huey.consumer import Consumer

huey = SqliteHuey("orders", filename=str(Path(os.environ["JOBS_DIR"]) / "huey.db"))


@huey.task()
def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = "shop@example.com", "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"
    msg.set_content("On its way.")
    with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"]), timeout=10) as smtp:
        smtp.send_message(msg)


class InProcessConsumer(Consumer):
    def _set_signal_handlers(self) -> None:
        pass  # uvicorn owns the signals of this process


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    # two worker threads, polling the queue every 50 ms
    consumer = InProcessConsumer(
        huey, workers=2, worker_type="thread", periodic=False,
        initial_delay=0.05, backoff=1.0, max_delay=0.05,
    )
    consumer.start()
    yield
    await asyncio.to_thread(consumer.stop, graceful=True)


app = FastAPI(lifespan=lifespan)


@app.post("/orders/{order_id}", status_code=202)
async def create_order(order_id: str):
    await asyncio.to_thread(send_confirmation, order_id)  # committed to SQLite first
    return {"accepted": order_id}
