"""Valid: the hash is computed in a plain def dependency, which FastAPI runs in a thread."""

import hashlib
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel

app = FastAPI()


class Password(BaseModel):
    password: str


def hashed(body: Password) -> str:
    return hashlib.pbkdf2_hmac("sha256", body.password.encode(), b"course-salt", 1_000_000).hex()


@app.post("/hash")
async def hash_password(digest: Annotated[str, Depends(hashed)]):
    return {"hash": digest}


@app.get("/health")
async def health():
    return {"ok": True}
