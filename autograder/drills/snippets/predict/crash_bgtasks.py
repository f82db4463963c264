"""Orders whose confirmation email is a BackgroundTasks task; the mail provider takes two
connections at a time."""

import asyncio
import os
from email.message import EmailMessage

import aiosmtplib
from fastapi import BackgroundTasks, FastAPI

app = FastAPI()
provider = asyncio.Semaphore(2)  # the provider's limit: two connections at once


async def send_confirmation(order_id: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = "shop@example.com", "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"
    msg.set_content("On its way.")
    async with provider:
        await aiosmtplib.send(msg, hostname=os.environ["SMTP_HOST"], port=int(os.environ["SMTP_PORT"]))


@app.post("/orders/{order_id}", status_code=202)
async def create_order(order_id: str, background: BackgroundTasks):
    background.add_task(send_confirmation, order_id)
    return {"accepted": order_id}
