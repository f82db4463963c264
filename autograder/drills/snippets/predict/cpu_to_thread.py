"""Password hashing (0.25 s of CPU each) sent to a thread with asyncio.to_thread."""

import asyncio

from cpucost import PBKDF2_ITERATIONS, pbkdf2
from fastapi import FastAPI

app = FastAPI()


@app.post("/hash")
async def hash_password():
    return {"hash": await asyncio.to_thread(pbkdf2, PBKDF2_ITERATIONS)}


@app.get("/health")
async def health():
    return {"ok": True}
