"""Wrong: non-blocking and fast, but every welcome email goes to the sender's own address."""
# expect-fail: emails-delivered

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
    msg["To"] = "hello@example.com"
    msg["Subject"] = f"Welcome aboard, {registration.email}!"
    msg.set_content("Thanks for signing up.")
    await aiosmtplib.send(msg, hostname=SMTP_HOST, port=SMTP_PORT)
    return {"registered": registration.email}
