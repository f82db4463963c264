"""Wrong: /health becomes a def endpoint; the hash stays on the loop in async def.

A worker thread for /health does not help: the request still has to be read and
dispatched by the frozen event loop.
"""
# expect-fail: health-fast

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
def health():
    return {"ok": True}
