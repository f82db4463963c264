"""Receipts rendered in a background task after the response, then written to AUDIT_LOG."""

import asyncio
import os

from fastapi import BackgroundTasks, FastAPI

AUDIT_LOG = os.environ["AUDIT_LOG"]

app = FastAPI()


async def render_receipt(receipt_id: int, ms: int) -> None:
    await asyncio.sleep(ms / 1000)  # stands for rendering the PDF and emailing it
    with open(AUDIT_LOG, "a") as f:
        f.write(f"receipt {receipt_id}\n")


@app.post("/receipts/{receipt_id}/{ms}", status_code=202)
async def receipt(receipt_id: int, ms: int, tasks: BackgroundTasks):
    tasks.add_task(render_receipt, receipt_id, ms)
    return {"accepted": receipt_id}
