"""Wrong: ``run_in_executor(None, pbkdf2(password))`` hashes on the loop, then fails.

The call is evaluated before the executor gets it (a str, not a callable): the loop
freezes for each hash and every hash request ends in a 500.
"""
# expect-fail: hashes, health-fast

import asyncio
import hashlib

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Password(BaseModel):
    password: str


def pbkdf2(password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), b"course-salt", 1_000_000).hex()


@app.post("/hash")
async def hash_password(body: Password):
    loop = asyncio.get_running_loop()
    return {"hash": await loop.run_in_executor(None, pbkdf2(body.password))}  # type: ignore[arg-type]


@app.get("/health")
async def health():
    return {"ok": True}
