"""Wrong: answers a fixed hash (the hash of "password"), whatever was sent."""
# expect-fail: hashes

import hashlib

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
FIXED = hashlib.pbkdf2_hmac("sha256", b"password", b"course-salt", 1_000_000).hex()


class Password(BaseModel):
    password: str


@app.post("/hash")
async def hash_password(body: Password):
    return {"hash": FIXED}


@app.get("/health")
async def health():
    return {"ok": True}
