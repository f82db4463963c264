"""A shop service with known problems and known clean routes: what ``scan`` must find.

Problems (each marked ``# PROBLEM:`` with the verdict the scan must give):
- GET /report blocks the loop in the route; GET /profile/{user_id} in an async
  dependency (shop_deps.py); GET /admin/stats in a middleware that runs on /admin only;
- GET /inventory is serialised by a lock;
- GET /export is a ``def`` route that queues behind the thread pool's 40 tokens (seen
  with more than 40 requests at once);
- GET /quote errors under load (a pool of 5 connections that does not wait).
The other routes are clean. POST /orders counts its calls (it must never be called
without ``--unsafe``).
"""

import asyncio
import enum
import os
import time

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from shop_deps import current_user

app = FastAPI(title="shop")
_stock_lock = asyncio.Lock()
_connections = [f"conn-{i}" for i in range(5)]


@app.middleware("http")
async def audit_admin(request: Request, call_next):
    if request.url.path.startswith("/admin"):
        time.sleep(0.15)  # PROBLEM: blocks-loop
    return await call_next(request)


class Colour(enum.StrEnum):
    red = "red"
    blue = "blue"


class Order(BaseModel):
    item: str
    quantity: int


@app.get("/health")
async def health():
    return {"ok": True}


@app.get("/books/{book_id}")
async def book(book_id: int, full: bool = False):
    await asyncio.sleep(0.05)
    return {"id": book_id, "full": full}


@app.get("/search")
def search(q: str, colour: Colour, limit: int = 10):
    time.sleep(0.01)  # a quick sync query: fine in the thread pool
    return {"q": q, "colour": colour, "limit": limit}


@app.get("/slow")
async def slow():
    await asyncio.sleep(0.3)  # slow, but every request waits together
    return {"ok": True}


@app.get("/convert")
async def convert(amount: float = 1.0):
    await asyncio.to_thread(time.sleep, 0.02)
    return {"amount": amount * 2}


@app.get("/report")
async def report():
    time.sleep(0.2)  # PROBLEM: blocks-loop
    return {"rows": 3}


@app.get("/profile/{user_id}")
async def profile(user_id: int, user: str = Depends(current_user)):
    return {"id": user_id, "user": user}


@app.get("/admin/stats")
async def admin_stats():
    return {"orders": 0}


@app.get("/inventory")
async def inventory():
    async with _stock_lock:  # PROBLEM: serialised
        await asyncio.sleep(0.1)
    return {"items": 12}


@app.get("/export")
def export():
    time.sleep(0.4)  # PROBLEM: pool-queued
    return {"file": "export.csv"}


@app.get("/quote")
async def quote():
    if not _connections:  # PROBLEM: errors
        raise HTTPException(503, "no database connection free")
    conn = _connections.pop()
    try:
        await asyncio.sleep(0.05)
        return {"price": 10, "via": conn}
    finally:
        _connections.append(conn)


@app.post("/orders")
async def create_order(order: Order):
    calls = os.environ.get("SCAN_CALLS_FILE")
    if calls:
        with open(calls, "a") as f:
            f.write(f"POST /orders {order.item}\n")
    return {"created": order.item}
