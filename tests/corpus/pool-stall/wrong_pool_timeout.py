"""Wrong fix: waits longer for a connection (pool_timeout 30 s). Nobody gets a 503 any
more, but the connections are still held across the pricing call: 40 orders take
8 rounds of 0.35 s on 5 connections.
"""
# expect-fail: answered, held

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
engine = create_async_engine(DATABASE_URL, pool_size=5, max_overflow=0, pool_timeout=30.0)
sessions = async_sessionmaker(engine, expire_on_commit=False)


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
        async with sessions() as session, session.begin():  # one transaction for it all
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
