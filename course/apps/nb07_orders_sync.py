"""Orders: a ``def`` endpoint with a sync SQLAlchemy engine on a SQLite file.

Each order is read with a query that takes 0.2 s (``sleep(0.2)`` in the SQL stands in for
a slow query). The engine keeps SQLAlchemy's default pool for a SQLite file; only
``pool_timeout`` is small, so that a request that cannot get a connection fails fast
with 503 instead of waiting the default 30 s.
"""

import os
import tempfile
import time
from pathlib import Path

import nb07_db_gauge
from fastapi import FastAPI, HTTPException
from sqlalchemy import create_engine, exc, text

QUERY_SECONDS = 0.2
DB = Path(tempfile.mkdtemp()) / "orders.db"
engine = create_engine(f"sqlite:///{DB}", pool_timeout=float(os.environ.get("POOL_TIMEOUT", "0.3")))
nb07_db_gauge.watch(engine.pool)
with engine.begin() as setup:
    setup.execute(text("CREATE TABLE orders (id INTEGER PRIMARY KEY, total_cents INTEGER)"))
    setup.execute(text("INSERT INTO orders VALUES (:id, :total)"),
                  [{"id": i, "total": 100 + i} for i in range(1, 201)])

app = FastAPI()
app.include_router(nb07_db_gauge.router)


@app.get("/orders/{order_id}")
def order(order_id: int):
    asked = time.monotonic()
    try:
        with nb07_db_gauge.waiting():
            connection = engine.connect()  # waits here, in a worker thread, for a free connection
    except exc.TimeoutError:
        raise HTTPException(503, "no database connection free") from None
    waited = time.monotonic() - asked
    with connection:
        row = connection.execute(
            text("SELECT id, total_cents, sleep(:s) FROM orders WHERE id = :id"),
            {"id": order_id, "s": QUERY_SECONDS},
        ).one()
    return {"id": row.id, "total_cents": row.total_cents, "waited_ms": round(waited * 1000, 1)}


@app.get("/health")
def health():
    return {"ok": True}
