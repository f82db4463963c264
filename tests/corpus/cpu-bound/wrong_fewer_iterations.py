"""Wrong: "fixed" by cutting pbkdf2 to 10,000 iterations: fast, but every hash is wrong."""
# expect-fail: hashes

import asyncio
import hashlib

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Password(BaseModel):
    password: str


def pbkdf2(password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), b"course-salt", 10_000).hex()


@app.post("/hash")
async def hash_password(body: Password):
    return {"hash": await asyncio.to_thread(pbkdf2, body.password)}


@app.get("/health")
async def health():
    return {"ok": True}
