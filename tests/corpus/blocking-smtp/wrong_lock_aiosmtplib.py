"""Wrong: aiosmtplib, but one shared asyncio.Lock around every send.

The loop stays free, yet sign-ups queue for the lock: the 20th waits 6 s.
"""
# expect-fail: fast-answers

import asyncio
import os
from email.message import EmailMessage

import aiosmtplib
from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])

app = FastAPI()
lock = asyncio.Lock()


class Registration(BaseModel):
    email: str


@app.post("/register", status_code=201)
async def register(registration: Registration):
    msg = EmailMessage()
    msg["From"] = "hello@example.com"
    msg["To"] = registration.email
    msg["Subject"] = "Welcome aboard!"
    msg.set_content("Thanks for signing up.")
    async with lock:
        await aiosmtplib.send(msg, hostname=SMTP_HOST, port=SMTP_PORT)
    return {"registered": registration.email}
