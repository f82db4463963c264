"""Valid: one file per job in JOBS_DIR, moved between queued/, running/ and done/ with
os.replace (atomic on one file system); at start-up running/ goes back to queued/."""

import asyncio
import contextlib
import logging
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])
ROOT = Path(os.environ.get("JOBS_DIR", "."))
QUEUED, RUNNING, DONE = ROOT / "queued", ROOT / "running", ROOT / "done"
WORKERS = 4
log = logging.getLogger("orders")


def init() -> None:
    for d in (QUEUED, RUNNING, DONE):
        d.mkdir(exist_ok=True)
    for f in RUNNING.iterdir():  # claimed by the dead process: unfinished
        os.replace(f, QUEUED / f.name)


def enqueue(order_id: str) -> None:
    tmp = ROOT / f".{order_id}.tmp"
    with open(tmp, "w") as f:
        f.write(order_id)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, QUEUED / order_id)


def claim() -> str | None:
    for name in sorted(os.listdir(QUEUED)):  # the file's name is the order id
        with contextlib.suppress(FileNotFoundError):  # another worker took it first
            os.replace(QUEUED / name, RUNNING / name)
            return name
    return None


def send_confirmation(order_id: str) -> bool:
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "orders@example.com"
    msg["Subject"] = f"Order {order_id} confirmed"
    msg["Message-ID"] = f"<order-{order_id}@shop.example.com>"
    msg.set_content(f"Order {order_id} is on its way.")
    try:
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
            smtp.send_message(msg)
        return True
    except (OSError, smtplib.SMTPException):
        log.exception("confirmation email for order %s failed", order_id)
        return False


def finish(order_id: str, ok: bool) -> None:
    os.replace(RUNNING / order_id, (DONE if ok else QUEUED) / order_id)


stopping = asyncio.Event()
wake = asyncio.Event()


async def worker() -> None:
    while not stopping.is_set():
        wake.clear()
        order_id = await asyncio.to_thread(claim)
        if order_id is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), 0.2)
            continue
        ok = await asyncio.to_thread(send_confirmation, order_id)
        await asyncio.to_thread(finish, order_id, ok)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await asyncio.to_thread(init)
    workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
    yield
    stopping.set()
    wake.set()
    await asyncio.gather(*workers)


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    order_id: str


@app.post("/orders", status_code=202)
async def create_order(order: Order):
    await asyncio.to_thread(enqueue, order.order_id)
    wake.set()
    return {"accepted": order.order_id}
