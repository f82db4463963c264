"""Chapter & Verse, fixed: one answer to the capstone (notebook 11).

Three changes from apps/nb11_bookshop.py, each marked FIX:
- the delivery dependency is a plain `def`: FastAPI runs it in a worker thread, so the
  courier's sync client waits there, not on the event loop;
- the audit middleware sends its mail from a worker thread (`run_in_threadpool`: the
  same 40 tokens as `def` endpoints; `asyncio.to_thread` uses the loop's default
  executor instead, which plain uvicorn leaves at min(32, CPUs + 4) threads: on a
  2-core host, a ceiling of 6);
- the warehouse's client may open as many connections as the shop has requests in
  flight (httpx's default pool, 100), not 4.

The service, as before:

The catalogue and the orders live in SQLite, loaded when the service starts. Stock comes
from the warehouse's system and delivery conditions from the courier's feed, both at
UPSTREAM_URL; the auditors get a mail for every back-office request, through the mail
relay at SMTP_HOST:SMTP_PORT.

    uvicorn nb11_bookshop:app
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from typing import Annotated, Any

import aiosqlite
import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

SERVICES_URL = os.environ["UPSTREAM_URL"]
SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
AUDITORS = "audit@chapter-and-verse.example"

AUTHORS = ["Ada Byron", "Mary Shelley", "Jane Austen", "George Eliot", "Emily Bronte",
           "Charles Dickens", "Virginia Woolf", "Thomas Hardy"]
SUBJECTS = ["garden", "river", "winter", "letters", "island", "harvest", "lighthouse", "orchard"]


# -- models ------------------------------------------------------------------------------

class Book(BaseModel):
    id: int
    title: str
    author_id: int
    price: float


class Author(BaseModel):
    id: int
    name: str
    books: list[Book]


class Stock(BaseModel):
    book_id: int
    warehouse_ref: str
    available: bool


class DeliveryQuote(BaseModel):
    city: str
    temp_c: int
    days: int
    price: float


class Sales(BaseModel):
    orders: int
    copies: int
    revenue: float


class OrderIn(BaseModel):
    book_id: int
    quantity: int = Field(ge=1, le=10)
    email: str


class Order(BaseModel):
    id: int
    book_id: int
    quantity: int
    total: float


# -- the outside services ----------------------------------------------------------------

class Courier:
    """The courier's conditions feed: bad weather means slower, dearer deliveries."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def conditions(self, city: str) -> dict[str, Any]:
        url = f"{self.base_url}/weather/{urllib.parse.quote(city)}"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return json.load(answer)


class AuditTrail:
    """One mail to the auditors per back-office request."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def record(self, who: str, what: str) -> None:
        message = EmailMessage()
        message["From"] = "api@chapter-and-verse.example"
        message["To"] = AUDITORS
        message["Subject"] = f"back office: {what}"
        message.set_content(f"{who} requested {what}")
        with smtplib.SMTP(self.host, self.port, timeout=5) as relay:
            relay.send_message(message)


courier = Courier(SERVICES_URL)
audit = AuditTrail(SMTP_HOST, SMTP_PORT)


# -- start-up: the database and the warehouse's client -----------------------------------

async def load_catalogue(db: aiosqlite.Connection) -> None:
    await db.executescript(
        """
        CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                            author_id INTEGER NOT NULL REFERENCES authors(id), price REAL NOT NULL);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, book_id INTEGER NOT NULL REFERENCES books(id),
                             quantity INTEGER NOT NULL, email TEXT NOT NULL);
        """
    )
    await db.executemany("INSERT INTO authors VALUES (?, ?)", list(enumerate(AUTHORS, start=1)))
    books = [(i, f"The {SUBJECTS[i % len(SUBJECTS)].title()} Book, vol. {i}", i % len(AUTHORS) + 1,
              round(6.99 + i % 9, 2)) for i in range(1, 41)]
    await db.executemany("INSERT INTO books VALUES (?, ?, ?, ?)", books)
    orders = [(i, i * 7 % 40 + 1, i % 3 + 1, f"reader{i % 50}@example.org") for i in range(1, 301)]
    await db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)
    await db.commit()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with aiosqlite.connect(":memory:") as db:
        db.row_factory = aiosqlite.Row
        await load_catalogue(db)
        # FIX: httpx's default pool (100 connections), not 4
        async with httpx.AsyncClient(base_url=SERVICES_URL, timeout=5) as warehouse:
            app.state.db = db
            app.state.warehouse = warehouse
            yield


app = FastAPI(title="Chapter & Verse", lifespan=lifespan)


@app.middleware("http")
async def audit_back_office(request: Request, call_next):
    if request.url.path.startswith("/admin"):
        who = request.client.host if request.client else "unknown"
        await run_in_threadpool(audit.record, who, f"{request.method} {request.url.path}")  # FIX
    return await call_next(request)


# -- dependencies ------------------------------------------------------------------------

async def get_db(request: Request) -> aiosqlite.Connection:
    return request.app.state.db


async def get_warehouse(request: Request) -> httpx.AsyncClient:
    return request.app.state.warehouse


def delivery_conditions(city: Annotated[str, Path(examples=["Leeds"])]) -> dict[str, Any]:  # FIX
    return courier.conditions(city)


Db = Annotated[aiosqlite.Connection, Depends(get_db)]


async def find_book(db: aiosqlite.Connection, book_id: int) -> Book:
    async with db.execute("SELECT * FROM books WHERE id = ?", (book_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise HTTPException(404, f"no book {book_id}")
    return Book(**dict(row))


# -- the shop front ----------------------------------------------------------------------

catalogue = APIRouter(tags=["catalogue"])


@catalogue.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@catalogue.get("/books")
async def list_books(db: Db, limit: int = Query(20, ge=1, le=100), offset: int = 0) -> list[Book]:
    async with db.execute("SELECT * FROM books ORDER BY id LIMIT ? OFFSET ?", (limit, offset)) as cursor:
        return [Book(**dict(row)) for row in await cursor.fetchall()]


@catalogue.get("/books/{book_id}")
async def show_book(book_id: Annotated[int, Path(examples=[7])], db: Db) -> Book:
    return await find_book(db, book_id)


@catalogue.get("/books/{book_id}/stock")
async def book_stock(
    book_id: Annotated[int, Path(examples=[7])],
    db: Db,
    warehouse: Annotated[httpx.AsyncClient, Depends(get_warehouse)],
) -> Stock:
    book = await find_book(db, book_id)
    answer = await warehouse.get(f"/legacy/{book.id}")
    answer.raise_for_status()
    return Stock(book_id=book.id, warehouse_ref=answer.json()["name"], available=True)


@catalogue.get("/authors/{author_id}")
async def show_author(author_id: Annotated[int, Path(examples=[2])], db: Db) -> Author:
    async with db.execute("SELECT * FROM authors WHERE id = ?", (author_id,)) as cursor:
        author = await cursor.fetchone()
    if author is None:
        raise HTTPException(404, f"no author {author_id}")
    async with db.execute("SELECT * FROM books WHERE author_id = ? ORDER BY id", (author_id,)) as cursor:
        books = [Book(**dict(row)) for row in await cursor.fetchall()]
    return Author(id=author["id"], name=author["name"], books=books)


@catalogue.get("/search")
async def search(q: Annotated[str, Query(min_length=2, examples=["garden"])], db: Db) -> list[Book]:
    query = "SELECT * FROM books WHERE title LIKE ? ORDER BY id LIMIT 20"
    async with db.execute(query, (f"%{q}%",)) as cursor:
        return [Book(**dict(row)) for row in await cursor.fetchall()]


@catalogue.get("/bestsellers")
async def bestsellers(db: Db, top: int = Query(5, ge=1, le=20)) -> list[Book]:
    query = """SELECT books.* FROM books JOIN orders ON orders.book_id = books.id
               GROUP BY books.id ORDER BY SUM(orders.quantity) DESC, books.id LIMIT ?"""
    async with db.execute(query, (top,)) as cursor:
        return [Book(**dict(row)) for row in await cursor.fetchall()]


# -- delivery ----------------------------------------------------------------------------

delivery = APIRouter(prefix="/delivery", tags=["delivery"])


@delivery.get("/{city}")
async def delivery_quote(
    city: str, conditions: Annotated[dict[str, Any], Depends(delivery_conditions)]
) -> DeliveryQuote:
    cold = conditions["temp_c"] < 0
    return DeliveryQuote(city=city, temp_c=conditions["temp_c"], days=3 if cold else 2,
                         price=4.5 if cold else 3.0)


# -- orders ------------------------------------------------------------------------------

orders = APIRouter(prefix="/orders", tags=["orders"])


@orders.post("", status_code=201)
async def place_order(order: OrderIn, db: Db) -> Order:
    book = await find_book(db, order.book_id)
    cursor = await db.execute(
        "INSERT INTO orders (book_id, quantity, email) VALUES (?, ?, ?)",
        (book.id, order.quantity, order.email),
    )
    await db.commit()
    assert cursor.lastrowid is not None
    return Order(id=cursor.lastrowid, book_id=book.id, quantity=order.quantity,
                 total=round(book.price * order.quantity, 2))


# -- the back office ---------------------------------------------------------------------

back_office = APIRouter(prefix="/admin", tags=["back office"])


@back_office.get("/sales")
async def sales(db: Db) -> Sales:
    query = """SELECT COUNT(*) AS orders, SUM(quantity) AS copies,
               SUM(quantity * price) AS revenue FROM orders JOIN books ON books.id = orders.book_id"""
    async with db.execute(query) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return Sales(orders=row["orders"], copies=row["copies"], revenue=round(row["revenue"], 2))


for router in (catalogue, delivery, orders, back_office):
    app.include_router(router)
