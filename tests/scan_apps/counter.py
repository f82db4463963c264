"""Counts the calls that change data, and declares routes the scan cannot fill on its own.

Each POST/PUT/DELETE appends a line to the file named by SCAN_CALLS_FILE: the test reads
it to check that nothing was sent without ``--unsafe``.
"""

import os

from fastapi import FastAPI, Path, Request
from pydantic import BaseModel, Field

app = FastAPI(title="counter")


def _count(what: str) -> None:
    with open(os.environ["SCAN_CALLS_FILE"], "a") as f:
        f.write(what + "\n")


class Order(BaseModel):
    item: str
    quantity: int = Field(ge=1, le=5)
    tags: list[str] = []


@app.get("/items")
async def items():
    return ["a", "b"]


@app.get("/orders/{order_id}")
async def order(order_id: int = Path(examples=[7])):
    return {"id": order_id}


@app.get("/codes/{code}")
async def by_code(code: str = Path(pattern="^[A-Z]{3}$")):
    return {"code": code}


@app.post("/orders")
async def create(order: Order):
    _count(f"POST /orders {order.item} {order.quantity}")
    return {"created": order.item}


@app.put("/orders/{order_id}")
async def replace(order_id: int, order: Order):
    _count(f"PUT /orders/{order_id}")
    return {"id": order_id}


@app.delete("/orders/{order_id}")
async def delete(order_id: int):
    _count(f"DELETE /orders/{order_id}")
    return {"deleted": order_id}


@app.post(
    "/import",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_csv(request: Request):
    _count("POST /import")
    return {"bytes": len(await request.body())}
