"""Fix: a process pool, created in the lifespan: frees the loop even for GIL-holding work.

The pool uses the "forkserver" start method: forking a process that already runs threads
(uvicorn's, the default executor's) can copy a lock in a held state into the child.
"""

import asyncio
import hashlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel


def pbkdf2(password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), b"course-salt", 1_000_000).hex()


@asynccontextmanager
async def lifespan(app: FastAPI):
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        app.state.pool = pool
        yield


app = FastAPI(lifespan=lifespan)


class Password(BaseModel):
    password: str


@app.post("/hash")
async def hash_password(body: Password):
    loop = asyncio.get_running_loop()
    return {"hash": await loop.run_in_executor(app.state.pool, pbkdf2, body.password)}


@app.get("/health")
async def health():
    return {"ok": True}
