"""Wrong: a BackgroundTask, but ``async def`` and still smtplib.

An async task runs on the event loop after the response; its blocking SMTP session
freezes the loop, so the next orders wait 0.3 s or more for their 202.
"""
# expect-fail: fast-answers

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


async def process_order(order_id: str) -> None:
    with open(AUDIT_LOG, "a") as f:  # noqa: ASYNC230 (part of the bug: sync I/O in async def)
        f.write(f"accepted {order_id}\n")
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg.set_content(f"Order {order_id} is on its way.")
    try:
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        log.exception("confirmation email for order %s failed", order_id)


@app.post("/orders", status_code=202)
async def create_order(order: Order, tasks: BackgroundTasks):
    tasks.add_task(process_order, order.order_id)
    return {"accepted": order.order_id}
