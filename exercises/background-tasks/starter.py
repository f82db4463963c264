"""Order intake: accepts an order, writes an audit line and emails a confirmation."""

import logging
import os
import smtplib
from email.message import EmailMessage

from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
AUDIT_LOG = os.environ["AUDIT_LOG"]

log = logging.getLogger("orders")
app = FastAPI()


class Order(BaseModel):
    order_id: str


def write_audit(order_id: str) -> None:
    with open(AUDIT_LOG, "a") as f:
        f.write(f"accepted {order_id}\n")


def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg.set_content(f"Order {order_id} is on its way.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT) as smtp:
        smtp.send_message(msg)


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    write_audit(order.order_id)
    try:
        send_confirmation(order.order_id)
    except OSError:
        log.exception("could not send the confirmation for order %s", order.order_id)
    return {"accepted": order.order_id}
