"""Valid: smtplib unchanged, the endpoint a plain def (FastAPI runs it in a worker thread)."""

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


@app.post("/register", status_code=201)
def register(registration: Registration):
    msg = EmailMessage()
    msg["From"] = "hello@example.com"
    msg["To"] = registration.email
    msg["Subject"] = "Welcome aboard!"
    msg.set_content("Thanks for signing up.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(msg)
    return {"registered": registration.email}
