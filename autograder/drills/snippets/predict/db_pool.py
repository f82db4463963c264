"""Orders read through SQLAlchemy's default pool (5 connections + 10 overflow) from def endpoints.

Two engines, the same pool size: one gives up waiting for a connection after 0.1 s, the
other keeps SQLAlchemy's default pool_timeout of 30 s. Each request holds its connection
for a 0.3 s query (the sleep stands for it; SQLite answers the SELECT itself at once).
"""

import time

from fastapi import FastAPI, HTTPException
from sqlalchemy import create_engine, text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

app = FastAPI()


def engine(**pool_options):
    # sqlite:// would get a single-connection pool: name QueuePool to get the default
    # one every server database gets (pool_size=5, max_overflow=10).
    return create_engine(
        "sqlite://",
        poolclass=QueuePool,
        connect_args={"check_same_thread": False},
        **pool_options,
    )


impatient = engine(pool_timeout=0.1)
patient = engine()  # pool_timeout=30


def read_order(db, order_id: int) -> dict:
    try:
        with db.connect() as conn:
            found = conn.execute(text("SELECT :id"), {"id": order_id}).scalar_one()
            time.sleep(0.3)  # a 0.3 s query, holding the connection
    except PoolTimeout:
        raise HTTPException(503, "no database connection free") from None
    return {"order_id": found}


@app.get("/orders/{order_id}")
def order(order_id: int):
    return read_order(impatient, order_id)


@app.get("/orders-patient/{order_id}")
def order_patient(order_id: int):
    return read_order(patient, order_id)
