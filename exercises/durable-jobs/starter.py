"""Order intake: accepts an order at once and emails its confirmation after the response."""

import logging
import os
import smtplib
from email.message import EmailMessage

from fastapi import BackgroundTasks, FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
JOBS_DIR = os.environ.get("JOBS_DIR", ".")  # a directory that survives restarts

log = logging.getLogger("orders")
app = FastAPI()


class Order(BaseModel):
    order_id: str


def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    # The same key on every send of this order: a receiver drops the copies.
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"
    msg.set_content(f"Order {order_id} is on its way.")
    try:
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        log.exception("confirmation email for order %s failed", order_id)


@app.post("/orders", status_code=202)
async def create_order(order: Order, tasks: BackgroundTasks):
    tasks.add_task(send_confirmation, order.order_id)
    return {"accepted": order.order_id}
