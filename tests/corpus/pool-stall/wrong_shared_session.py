"""Wrong fix: one session for every request ("no pool to run out of"). An AsyncSession
is not safe for concurrent use: requests interleave on one connection and one
transaction, and SQLAlchemy/asyncpg refuse concurrent operations.
"""
# expect-fail: answered

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

DATABASE_URL = os.environ["DATABASE_URL"]  # postgresql+asyncpg://... (a Unix socket)
UPSTREAM_URL = os.environ["UPSTREAM_URL"]

# The database gives this service 5 connections; a request waits at most 1 s for one.
engine = create_async_engine(DATABASE_URL, pool_size=5, max_overflow=0, pool_timeout=1.0)
sessions = async_sessionmaker(engine, expire_on_commit=False)
shared = sessions()  # one session (one connection) for the whole service


@asynccontextmanager
async def shared_transaction():
    try:
        yield
        await shared.commit()
    except BaseException:
        await shared.rollback()
        raise


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    account: int
    item: int


@app.post("/orders", status_code=201)
async def place_order(order: Order):
    try:
        async with shared_transaction():  # every request on the same session
            session = shared
            owner = (await session.execute(
                text("SELECT owner FROM accounts WHERE id = :id"), {"id": order.account}
            )).scalar_one()
            response = await app.state.client.get(f"/legacy/{order.item}")  # 0.3 s, connection held
            response.raise_for_status()
            name = response.json()["name"]
            order_id = (await session.execute(
                text("INSERT INTO orders (account_id, item_id, name, owner) "
                     "VALUES (:a, :i, :n, :o) RETURNING id"),
                {"a": order.account, "i": order.item, "n": name, "o": owner},
            )).scalar_one()
    except exc.TimeoutError:
        raise HTTPException(503, "no database connection free") from None
    return {"order": order_id, "account": order.account, "item": order.item,
            "name": name, "owner": owner}


@app.get("/health")
async def health():
    return {"ok": True}
