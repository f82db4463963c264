"""Valid: no BackgroundTasks; a task of our own (kept referenced) audits, then emails with aiosmtplib."""

import asyncio
import logging
import os
from email.message import EmailMessage

import aiosmtplib
from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
AUDIT_LOG = os.environ["AUDIT_LOG"]

log = logging.getLogger("orders")
app = FastAPI()
pending: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks


class Order(BaseModel):
    order_id: str


def append_audit(order_id: str) -> None:
    with open(AUDIT_LOG, "a") as f:
        f.write(f"accepted {order_id}\n")


async def process_order(order_id: str) -> None:
    await asyncio.to_thread(append_audit, order_id)
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg.set_content(f"Order {order_id} is on its way.")
    try:
        await aiosmtplib.send(msg, hostname=SMTP_HOST, port=SMTP_PORT, timeout=10)
    except (OSError, aiosmtplib.SMTPException):
        log.exception("confirmation email for order %s failed", order_id)


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    task = asyncio.create_task(process_order(order.order_id))
    pending.add(task)
    task.add_done_callback(pending.discard)
    return {"accepted": order.order_id}
