"""Valid: an aiosmtplib.SMTP client per registration, as an async context manager."""

import os
from email.message import EmailMessage

import aiosmtplib
from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])

app = FastAPI()


class Registration(BaseModel):
    email: str


@app.post("/register", status_code=201)
async def register(registration: Registration):
    msg = EmailMessage()
    msg["From"] = "hello@example.com"
    msg["To"] = registration.email
    msg["Subject"] = "Welcome aboard!"
    msg.set_content("Thanks for signing up.")
    async with aiosmtplib.SMTP(hostname=SMTP_HOST, port=SMTP_PORT, timeout=10) as smtp:
        await smtp.send_message(msg)
    return {"registered": registration.email}
