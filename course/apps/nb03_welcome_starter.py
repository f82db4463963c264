"""Your turn, notebook 03: sign-ups with a welcome email.

``POST /signup/{user}`` answers ``202`` at once and leaves a background task that renders
a welcome card (0.3 s in a blocking library) and emails it through the course's SMTP
server. Sign-ups arriving 30 ms apart wait for each other's cards, and the health check
freezes. Keep the answer immediate and every email delivered, without holding the loop.
"""

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
    msg.set_content(render_card(user))
    await aiosmtplib.send(msg, hostname=SMTP_HOST, port=SMTP_PORT)


@app.post("/signup/{user}", status_code=202)
async def signup(user: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_welcome, user)
    return {"welcome": user}
