"""Valid: anyio.to_thread.run_sync; pbkdf2 releases the GIL in the worker thread."""

import hashlib

import anyio.to_thread
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Password(BaseModel):
    password: str


def pbkdf2(password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), b"course-salt", 1_000_000).hex()


@app.post("/hash")
async def hash_password(body: Password):
    return {"hash": await anyio.to_thread.run_sync(pbkdf2, body.password)}


@app.get("/health")
async def health():
    return {"ok": True}
