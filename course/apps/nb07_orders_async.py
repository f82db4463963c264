"""Orders: an ``async def`` endpoint with an async session per request (``sqlite+aiosqlite``).

The same table, the same 0.2 s query, the same pool limits and ``pool_timeout`` as
``nb07_orders_sync.py``; a request waiting for a connection waits on the event loop, not
in a worker thread. For PostgreSQL the URL would be ``postgresql+asyncpg://...``.
"""

import os
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import nb07_db_gauge
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

QUERY_SECONDS = 0.2
DB = Path(tempfile.mkdtemp()) / "orders.db"
engine = create_async_engine(
    f"sqlite+aiosqlite:///{DB}", pool_timeout=float(os.environ.get("POOL_TIMEOUT", "0.3"))
)
nb07_db_gauge.watch(engine.sync_engine.pool)
sessions = async_sessionmaker(engine)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with engine.begin() as setup:
        await setup.execute(text("CREATE TABLE orders (id INTEGER PRIMARY KEY, total_cents INTEGER)"))
        await setup.execute(text("INSERT INTO orders VALUES (:id, :total)"),
                            [{"id": i, "total": 100 + i} for i in range(1, 201)])
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(nb07_db_gauge.router)


async def session():
    async with sessions() as s:  # one session per request, closed after the response
        yield s


@app.get("/orders/{order_id}")
async def order(order_id: int, db: Annotated[AsyncSession, Depends(session)]):
    asked = time.monotonic()
    try:
        with nb07_db_gauge.waiting():
            await db.connection()  # waits here, on the event loop, for a free connection
    except exc.TimeoutError:
        raise HTTPException(503, "no database connection free") from None
    waited = time.monotonic() - asked
    row = (await db.execute(
        text("SELECT id, total_cents, sleep(:s) FROM orders WHERE id = :id"),
        {"id": order_id, "s": QUERY_SECONDS},
    )).one()
    return {"id": row.id, "total_cents": row.total_cents, "waited_ms": round(waited * 1000, 1)}


@app.get("/health")
def health():
    return {"ok": True}
