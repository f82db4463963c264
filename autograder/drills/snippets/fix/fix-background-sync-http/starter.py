"""Sign-ups: answer at once, then tell the CRM (the upstream, 0.3 s) in a background task."""

import os

import httpx
from fastapi import BackgroundTasks, FastAPI
from pydantic import BaseModel

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


class Signup(BaseModel):
    user_id: int


async def notify_crm(user_id: int) -> None:
    httpx.get(f"{UPSTREAM_URL}/legacy/{user_id}").raise_for_status()


@app.post("/signup", status_code=202)
async def signup(body: Signup, tasks: BackgroundTasks):
    tasks.add_task(notify_crm, body.user_id)
    return {"accepted": body.user_id}
