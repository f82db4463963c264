"""Checkout: the session is taken only around the statements, not for the whole request.

The dependency held one transaction (and its pooled connection) from before the handler
to after the response, across the 0.3 s pricing call. Now the pricing call runs first,
holding nothing, and one short transaction reads the account and writes the order.
"""

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

DATABASE_URL = os.environ["DATABASE_URL"]
UPSTREAM_URL = os.environ["UPSTREAM_URL"]

engine = create_async_engine(DATABASE_URL, pool_size=5, max_overflow=0, pool_timeout=1.0)
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
    price = await app.state.client.get(f"/legacy/{order.item}")  # no connection held
    price.raise_for_status()
    name = price.json()["name"]
    try:
        async with sessions() as session, session.begin():  # one short transaction
            owner = (await session.execute(
                text("SELECT owner FROM accounts WHERE id = :id"), {"id": order.account}
            )).scalar_one()
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
