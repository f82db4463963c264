"""Corner Shop API: catalogue, stock levels, baskets and checkout.

Inherited code: the inventory numbers come from the warehouse's service (UPSTREAM_URL),
everything else lives in memory. Ops reports that the health check fails "now and then"
under load, and that product pages get slow at the same moments.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException
from nb06_lagwatch import LoopLagMiddleware
from pydantic import BaseModel

log = logging.getLogger("shop")

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
CATALOGUE: dict[int, dict[str, Any]] = {
    i: {"id": i, "name": f"item-{i}", "price_cents": 150 + 35 * i} for i in range(1, 201)
}


class InventoryClient:
    """Client for the warehouse's inventory service (it answers in about 0.3 s)."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + path, timeout=self.timeout) as answer:
            return json.loads(answer.read())

    def stock_of(self, item_id: int) -> int:
        record = self._get(f"/legacy/{item_id}")
        return record["item_id"] % 9  # the warehouse encodes stock in its ids; don't ask


inventory = InventoryClient(UPSTREAM_URL)


@dataclass
class Basket:
    items: dict[int, int] = field(default_factory=dict)


BASKETS: dict[str, Basket] = {}
# The baskets are changed on the event loop (add_to_basket, async def) and from worker
# threads (checkout, def): an asyncio.Lock would not stop a thread, so a threading.Lock
# guards them. It is held only for dict updates, never across an await or a network call.
BASKETS_LOCK = threading.Lock()


async def customer(x_customer: Annotated[str, Header()] = "guest") -> str:
    return x_customer.strip().lower() or "guest"


async def product(item_id: int) -> dict[str, Any]:
    try:
        return CATALOGUE[item_id]
    except KeyError:
        raise HTTPException(404, f"no product {item_id}") from None


async def stock_level(item: Annotated[dict[str, Any], Depends(product)]) -> int:
    return inventory.stock_of(item["id"])


api = FastAPI(title="Corner Shop")


@api.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@api.get("/products")
async def list_products(limit: int = 20) -> list[dict[str, Any]]:
    return list(CATALOGUE.values())[:limit]


@api.get("/products/{item_id}")
async def show_product(
    item: Annotated[dict[str, Any], Depends(product)],
    stock: Annotated[int, Depends(stock_level)],
) -> dict[str, Any]:
    return {**item, "in_stock": stock}


class BasketLine(BaseModel):
    item_id: int
    quantity: int = 1


@api.post("/basket")
async def add_to_basket(
    line: BasketLine, who: Annotated[str, Depends(customer)]
) -> dict[str, Any]:
    await product(line.item_id)
    with BASKETS_LOCK:
        basket = BASKETS.setdefault(who, Basket())
        basket.items[line.item_id] = basket.items.get(line.item_id, 0) + line.quantity
        return {"customer": who, "items": dict(basket.items)}


@api.post("/checkout")
def checkout(who: Annotated[str, Depends(customer)]) -> dict[str, Any]:
    with BASKETS_LOCK:
        basket = BASKETS.pop(who, Basket())
    for item_id, quantity in basket.items.items():
        if inventory.stock_of(item_id) < quantity:
            raise HTTPException(409, f"item {item_id} is out of stock")
    total = sum(CATALOGUE[i]["price_cents"] * q for i, q in basket.items.items())
    log.info("checkout for %s: %d cents", who, total)
    return {"customer": who, "total_cents": total}


app = LoopLagMiddleware(api)
