"""Wrong: ``asyncio.to_thread(send_welcome(address))`` sends on the loop, then fails.

The argument is evaluated first: smtplib blocks the loop for the whole send, and
to_thread is handed None (not callable), so every registration ends in a 500.
"""
# expect-fail: fast-answers, responses, loop-free

import asyncio
import os
import smtplib
from email.message import EmailMessage

from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])

app = FastAPI()


class Registration(BaseModel):
    email: str


def send_welcome(address: str) -> None:
    msg = EmailMessage()
    msg["From"] = "hello@example.com"
    msg["To"] = address
    msg["Subject"] = "Welcome aboard!"
    msg.set_content("Thanks for signing up.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT) as smtp:
        smtp.send_message(msg)


@app.post("/register", status_code=201)
async def register(registration: Registration):
    await asyncio.to_thread(send_welcome(registration.email))  # type: ignore[func-returns-value]
    return {"registered": registration.email}
