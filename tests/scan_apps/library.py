"""A ten-route service for the scan benchmark: eight clean routes, two problems."""

import asyncio
import time

from fastapi import FastAPI

app = FastAPI(title="library")
_lock = asyncio.Lock()
BOOKS = {i: {"id": i, "title": f"Book {i}"} for i in range(1, 50)}


@app.get("/health")
async def health():
    return {"ok": True}


@app.get("/books")
async def books(limit: int = 10):
    return list(BOOKS.values())[:limit]


@app.get("/books/{book_id}")
async def book(book_id: int):
    await asyncio.sleep(0.02)
    return BOOKS.get(book_id, {})


@app.get("/authors/{name}")
def author(name: str):
    time.sleep(0.01)
    return {"name": name}


@app.get("/search")
async def search(q: str):
    await asyncio.sleep(0.05)
    return {"q": q, "hits": []}


@app.get("/covers/{book_id}")
async def cover(book_id: int):
    await asyncio.to_thread(time.sleep, 0.02)
    return {"id": book_id}


@app.get("/stats")
def stats():
    return {"books": len(BOOKS)}


@app.get("/recommendations")
async def recommendations():
    await asyncio.sleep(0.2)
    return []


@app.get("/loans/overdue")
async def overdue():
    time.sleep(0.1)  # PROBLEM: blocks-loop
    return []


@app.get("/catalogue/export")
async def export():
    async with _lock:  # PROBLEM: serialised
        await asyncio.sleep(0.05)
    return {"rows": 49}
