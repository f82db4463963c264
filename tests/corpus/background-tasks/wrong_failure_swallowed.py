"""Wrong: fast, audited and emailed, but a failed send is swallowed without an ERROR log.

A background task's exception never reaches the client; silenced, nobody ever learns
that the confirmation was lost.
"""
# expect-fail: smtp-failure

import contextlib
import os
import smtplib
from email.message import EmailMessage

from fastapi import BackgroundTasks, FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
AUDIT_LOG = os.environ["AUDIT_LOG"]

app = FastAPI()


class Order(BaseModel):
    order_id: str


def process_order(order_id: str) -> None:
    with open(AUDIT_LOG, "a") as f:
        f.write(f"accepted {order_id}\n")
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg.set_content(f"Order {order_id} is on its way.")
    with (
        contextlib.suppress(OSError, smtplib.SMTPException),
        smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp,
    ):
        smtp.send_message(msg)


@app.post("/orders", status_code=202)
async def create_order(order: Order, tasks: BackgroundTasks):
    tasks.add_task(process_order, order.order_id)
    return {"accepted": order.order_id}
