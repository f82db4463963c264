"""Valid: answer first; an async def BackgroundTask sends with aiosmtplib (never blocks)."""

import os
from email.message import EmailMessage

import aiosmtplib
from fastapi import BackgroundTasks, FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])

app = FastAPI()


class Registration(BaseModel):
    email: str


async def send_welcome(address: str) -> None:
    msg = EmailMessage()
    msg["From"] = "hello@example.com"
    msg["To"] = address
    msg["Subject"] = "Welcome aboard!"
    msg.set_content("Thanks for signing up.")
    await aiosmtplib.send(msg, hostname=SMTP_HOST, port=SMTP_PORT, timeout=10)


@app.post("/register", status_code=201)
async def register(registration: Registration, tasks: BackgroundTasks):
    tasks.add_task(send_welcome, registration.email)
    return {"registered": registration.email}
