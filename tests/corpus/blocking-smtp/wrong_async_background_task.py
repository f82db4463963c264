"""Wrong: the email moves to a BackgroundTask, but the task is ``async def`` and uses smtplib.

An async background task runs on the event loop after the response: its blocking send
freezes the loop, so the other sign-ups wait behind each email in turn.
"""
# expect-fail: fast-answers, loop-free

import os
import smtplib
from email.message import EmailMessage

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
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT) as smtp:
        smtp.send_message(msg)


@app.post("/register", status_code=201)
async def register(registration: Registration, tasks: BackgroundTasks):
    tasks.add_task(send_welcome, registration.email)
    return {"registered": registration.email}
