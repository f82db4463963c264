"""Three background tasks; the second one raises. Each task appends its name to AUDIT_LOG."""

import os

from fastapi import BackgroundTasks, FastAPI

AUDIT_LOG = os.environ["AUDIT_LOG"]

app = FastAPI()


def audit(line: str) -> None:
    with open(AUDIT_LOG, "a") as f:
        f.write(line + "\n")


def first() -> None:
    audit("first")


def second() -> None:
    raise RuntimeError("the mail server said no")


def third() -> None:
    audit("third")


@app.post("/signup")
async def signup(tasks: BackgroundTasks):
    tasks.add_task(first)
    tasks.add_task(second)
    tasks.add_task(third)
    return {"ok": True}
