"""Wrong: answers at once, but the background task emails first and audits afterwards.

The contract wants the audit line on disk before the email goes out (an email for an
order the shop has no record of is the failure it guards against).
"""
# expect-fail: audit-and-email

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


def process_order(order_id: str) -> None:
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
    with open(AUDIT_LOG, "a") as f:
        f.write(f"accepted {order_id}\n")


@app.post("/orders", status_code=202)
async def create_order(order: Order, tasks: BackgroundTasks):
    tasks.add_task(process_order, order.order_id)
    return {"accepted": order.order_id}
