"""Fix: two short transactions on psycopg 3's own async pool (psycopg_pool), no SQLAlchemy:
5 connections, 1 s to get one. The connection goes back to the pool before the pricing call.
"""

import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import BaseModel

DATABASE_DSN = os.environ["DATABASE_DSN"]  # postgresql://app@/course?host=... (a Unix socket)
UPSTREAM_URL = os.environ["UPSTREAM_URL"]

pool = AsyncConnectionPool(DATABASE_DSN, min_size=5, max_size=5,
                           timeout=1.0, open=False)


@asynccontextmanager
async def lifespan(app: FastAPI):
    await pool.open(wait=True)
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.client = client
        yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


class Order(BaseModel):
    account: int
    item: int


@app.post("/orders", status_code=201)
async def place_order(order: Order):
    try:
        async with pool.connection() as conn:  # 1: the read; commits and goes back on exit
            owner = (await (await conn.execute(
                "SELECT owner FROM accounts WHERE id = %s", (order.account,))).fetchone())[0]
        response = await app.state.client.get(f"/legacy/{order.item}")  # no connection held
        response.raise_for_status()
        name = response.json()["name"]
        async with pool.connection() as conn:  # 2: a short write
            order_id = (await (await conn.execute(
                "INSERT INTO orders (account_id, item_id, name, owner) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (order.account, order.item, name, owner))).fetchone())[0]
    except PoolTimeout:
        raise HTTPException(503, "no database connection free") from None
    return {"order": order_id, "account": order.account, "item": order.item,
            "name": name, "owner": owner}


@app.get("/health")
async def health():
    return {"ok": True}
