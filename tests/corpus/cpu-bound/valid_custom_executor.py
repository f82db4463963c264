"""Valid: run_in_executor on a small ThreadPoolExecutor of our own (2 workers, one per core)."""

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hash")


class Password(BaseModel):
    password: str


def pbkdf2(password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), b"course-salt", 1_000_000).hex()


@app.post("/hash")
async def hash_password(body: Password):
    loop = asyncio.get_running_loop()
    return {"hash": await loop.run_in_executor(pool, pbkdf2, body.password)}


@app.get("/health")
async def health():
    return {"ok": True}
