"""Password hashing service with a health check for the load balancer."""

import hashlib

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Password(BaseModel):
    password: str


@app.post("/hash")
async def hash_password(body: Password):
    digest = hashlib.pbkdf2_hmac("sha256", body.password.encode(), b"course-salt", 1_000_000)
    return {"hash": digest.hex()}


@app.get("/health")
async def health():
    return {"ok": True}
