"""Wrong: asyncio.create_task per order, fire and forget: nothing outlives the process."""

# expect-fail: survives-crash

import asyncio
import logging
import os
import smtplib
from email.message import EmailMessage

from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
log = logging.getLogger("orders")


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


app = FastAPI()
running: set[asyncio.Task[None]] = set()


class Order(BaseModel):
    order_id: str


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    task = asyncio.create_task(asyncio.to_thread(send_confirmation, order.order_id))
    running.add(task)
    task.add_done_callback(running.discard)
    return {"accepted": order.order_id}
