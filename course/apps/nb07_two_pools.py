"""Two uvicorn workers, one pool of 10 each: 20 connections against the 17 the private
PostgreSQL gives an ordinary role (max_connections 20, 3 reserved for the superuser).
``GET /hold`` holds a connection for 3 s; when the server refuses a new one, it answers 500
with what SQLAlchemy raised and the SQLSTATE the server sent.
"""

import os

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

HOLD = 3.0
engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=0, pool_timeout=5)
app = FastAPI()


@app.get("/hold")
async def hold():
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(:s)"), {"s": HOLD})
    except Exception as e:  # noqa: BLE001 - the lesson shows what it is
        orig = getattr(e, "orig", None)
        return JSONResponse(status_code=500, content={
            "pid": os.getpid(),
            "raised": f"{type(e).__module__}.{type(e).__qualname__}",
            "message": str(e).splitlines()[0],
            "sqlstate": getattr(orig, "sqlstate", None),
        })
    return {"pid": os.getpid()}


@app.get("/health")
async def health():
    return {"ok": True}
