"""Valid: a def endpoint; the audit is written in a def dependency, the email in a def BackgroundTask."""

import logging
import os
import smtplib
from email.message import EmailMessage
from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
AUDIT_LOG = os.environ["AUDIT_LOG"]

log = logging.getLogger("orders")
app = FastAPI()


class Order(BaseModel):
    order_id: str


def audited(order: Order) -> Order:
    # A local file append takes microseconds: it may precede the answer.
    with open(AUDIT_LOG, "a") as f:
        f.write(f"accepted {order.order_id}\n")
    return order


def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg.set_content(f"Order {order_id} is on its way.")
    try:
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        log.error("confirmation email for order %s failed", order_id, exc_info=True)


@app.post("/orders", status_code=202)
def create_order(order: Annotated[Order, Depends(audited)], tasks: BackgroundTasks):
    tasks.add_task(send_confirmation, order.order_id)
    return {"accepted": order.order_id}
