"""Wrong: an asyncio.Queue and a worker pool: fast and orderly, and gone with the process."""

# expect-fail: survives-crash

import asyncio
import contextlib
import logging
import os
import smtplib
from email.message import EmailMessage

from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
log = logging.getLogger("orders")
jobs: asyncio.Queue[str] = asyncio.Queue()


def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"
    msg.set_content(f"Order {order_id} is on its way.")
    try:
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        log.exception("confirmation email for order %s failed", order_id)


async def worker() -> None:
    while True:
        order_id = await jobs.get()
        await asyncio.to_thread(send_confirmation, order_id)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    workers = [asyncio.create_task(worker()) for _ in range(4)]
    yield
    for task in workers:
        task.cancel()


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    order_id: str


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    jobs.put_nowait(order.order_id)
    return {"accepted": order.order_id}
