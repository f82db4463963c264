"""Reference answer, notebook 03: the task is a plain ``def``, so Starlette runs it in a
worker thread (``run_in_threadpool``) and the blocking render and SMTP calls wait there.

(``async def`` with ``await asyncio.to_thread(render_card, user)`` and aiosmtplib passes too.)
"""

import os
import smtplib
import time
from email.message import EmailMessage

from fastapi import BackgroundTasks, FastAPI

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
RENDER = 0.3  # seconds the card takes to render (a blocking library call)

app = FastAPI()


def render_card(user: str) -> str:
    time.sleep(RENDER)  # stands in for a blocking template or PDF library
    return f"Welcome aboard, {user}!"


def send_welcome(user: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = f"{user}@example.com"
    msg["Subject"] = f"Welcome, {user}"
    msg.set_content(render_card(user))
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(msg)


@app.post("/signup/{user}", status_code=202)
async def signup(user: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_welcome, user)
    return {"welcome": user}
