"""Valid: an async def BackgroundTask that hands the smtplib session to a thread."""

import asyncio
import logging
import os
import smtplib
from email.message import EmailMessage

from fastapi import BackgroundTasks, FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
AUDIT_LOG = os.environ["AUDIT_LOG"]

log = logging.getLogger("orders")
app = FastAPI()


class Order(BaseModel):
    order_id: str


def append_audit(order_id: str) -> None:
    with open(AUDIT_LOG, "a") as f:
        f.write(f"accepted {order_id}\n")


def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg.set_content(f"Order {order_id} is on its way.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(msg)


async def process_order(order_id: str) -> None:
    await asyncio.to_thread(append_audit, order_id)
    try:
        await asyncio.to_thread(send_confirmation, order_id)
    except (OSError, smtplib.SMTPException):
        log.exception("confirmation email for order %s failed", order_id)


@app.post("/orders", status_code=202)
async def create_order(order: Order, tasks: BackgroundTasks):
    tasks.add_task(process_order, order.order_id)
    return {"accepted": order.order_id}
