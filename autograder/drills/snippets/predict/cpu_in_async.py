"""Password hashing (0.25 s of CPU each) straight inside an async endpoint."""

from cpucost import PBKDF2_ITERATIONS, pbkdf2
from fastapi import FastAPI

app = FastAPI()


@app.post("/hash")
async def hash_password():
    return {"hash": pbkdf2(PBKDF2_ITERATIONS)}


@app.get("/health")
async def health():
    return {"ok": True}
