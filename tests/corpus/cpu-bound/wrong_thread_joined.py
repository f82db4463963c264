"""Wrong: the hash runs in a thread that is joined at once, from async def.

pbkdf2 releases the GIL, but ``join()`` holds the loop until the hash is done:
/health waits just as long as in the starter.
"""
# expect-fail: health-fast

import hashlib
import threading

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Password(BaseModel):
    password: str


@app.post("/hash")
async def hash_password(body: Password):
    result: dict[str, str] = {}

    def work() -> None:
        digest = hashlib.pbkdf2_hmac("sha256", body.password.encode(), b"course-salt", 1_000_000)
        result["hash"] = digest.hex()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return {"hash": result["hash"]}


@app.get("/health")
async def health():
    return {"ok": True}
