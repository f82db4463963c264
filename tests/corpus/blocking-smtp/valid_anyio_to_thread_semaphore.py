"""Valid: smtplib in a worker thread via anyio.to_thread, under an asyncio.Semaphore(100).

The semaphore caps SMTP sessions well above the 20 sign-ups measured: nothing queues.
"""

import asyncio
import os
import smtplib
from email.message import EmailMessage

import anyio.to_thread
from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])

app = FastAPI()
slots = asyncio.Semaphore(100)


class Registration(BaseModel):
    email: str


def send_welcome(address: str) -> None:
    msg = EmailMessage()
    msg["From"] = "hello@example.com"
    msg["To"] = address
    msg["Subject"] = "Welcome aboard!"
    msg.set_content("Thanks for signing up.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(msg)


@app.post("/register", status_code=201)
async def register(registration: Registration):
    async with slots:
        await anyio.to_thread.run_sync(send_welcome, registration.email)
    return {"registered": registration.email}
