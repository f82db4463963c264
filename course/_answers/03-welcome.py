"""Reference answer, notebook 03: the blocking render runs in a worker thread
(``asyncio.to_thread``), so the task awaits it and the loop stays free; the email is
sent with the async SMTP client as before.

(Making ``send_welcome`` a plain ``def`` with ``smtplib`` passes too: Starlette then runs
the whole task in a worker thread.)
"""

import asyncio
import os
import time
from email.message import EmailMessage

import aiosmtplib
from fastapi import BackgroundTasks, FastAPI

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
RENDER = 0.3  # seconds the card takes to render

app = FastAPI()


def render_card(user: str) -> str:
    time.sleep(RENDER)  # stands in for a blocking template or PDF library
    return f"Welcome aboard, {user}!"


async def send_welcome(user: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = f"{user}@example.com"
    msg["Subject"] = f"Welcome, {user}"
    msg.set_content(await asyncio.to_thread(render_card, user))
    await aiosmtplib.send(msg, hostname=SMTP_HOST, port=SMTP_PORT)


@app.post("/signup/{user}", status_code=202)
async def signup(user: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_welcome, user)
    return {"welcome": user}
