"""Wrong fix: two short transactions (right) on a sync engine (psycopg 3, sync) inside
async def (wrong): every query blocks the event loop for as long as it runs at the server.
"""
# expect-fail: answered, health

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import create_engine, exc, text
from sqlalchemy.orm import sessionmaker

DATABASE_URL = os.environ["DATABASE_URL"]  # postgresql+asyncpg://... (a Unix socket)
UPSTREAM_URL = os.environ["UPSTREAM_URL"]

# The database gives this service 5 connections; a request waits at most 1 s for one.
engine = create_engine(DATABASE_URL.replace("+asyncpg", "+psycopg"),
                       pool_size=5, max_overflow=0, pool_timeout=1.0)
sessions = sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield
    engine.dispose()


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    account: int
    item: int


@app.post("/orders", status_code=201)
async def place_order(order: Order):
    try:
        with sessions() as session, session.begin():  # 1: the read, then the connection goes back
            owner = (session.execute(
                text("SELECT owner FROM accounts WHERE id = :id"), {"id": order.account}
            )).scalar_one()
        response = await app.state.client.get(f"/legacy/{order.item}")  # no connection held
        response.raise_for_status()
        name = response.json()["name"]
        with sessions() as session, session.begin():  # 2: a short write
            order_id = (session.execute(
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
