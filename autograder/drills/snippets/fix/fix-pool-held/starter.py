"""Checkout: one database session per request, from a dependency, on 5 pooled connections."""

import os
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

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


async def get_session():
    try:
        async with sessions() as session, session.begin():
            yield session
    except exc.TimeoutError:
        raise HTTPException(503, "no database connection free") from None


class Order(BaseModel):
    account: int
    item: int


@app.post("/orders", status_code=201)
async def place_order(order: Order, session: Annotated[AsyncSession, Depends(get_session)]):
    owner = (await session.execute(
        text("SELECT owner FROM accounts WHERE id = :id"), {"id": order.account}
    )).scalar_one()
    price = await app.state.client.get(f"/legacy/{order.item}")
    price.raise_for_status()
    name = price.json()["name"]
    order_id = (await session.execute(
        text("INSERT INTO orders (account_id, item_id, name, owner) "
             "VALUES (:a, :i, :n, :o) RETURNING id"),
        {"a": order.account, "i": order.item, "n": name, "o": owner},
    )).scalar_one()
    return {"order": order_id, "account": order.account, "item": order.item,
            "name": name, "owner": owner}


@app.get("/health")
async def health():
    return {"ok": True}
