"""Valid (the contract says so): an asyncio.Lock around ``await asyncio.to_thread(hash)``.

The lock serialises the hashes (one core used instead of two) but the loop stays free,
and /health is what this exercise measures.
"""

import asyncio
import hashlib

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
lock = asyncio.Lock()


class Password(BaseModel):
    password: str


def pbkdf2(password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), b"course-salt", 1_000_000).hex()


@app.post("/hash")
async def hash_password(body: Password):
    async with lock:
        digest = await asyncio.to_thread(pbkdf2, body.password)
    return {"hash": digest}


@app.get("/health")
async def health():
    return {"ok": True}
