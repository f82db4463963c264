"""Reference answer, notebook 06: the blocking call was ``fetch_record``'s ``urlopen``,
one call below ``price_of``; ``price_of`` now runs it in a worker thread
(``asyncio.to_thread``), so the loop is free while the pricing service thinks.

(An async client, ``httpx.AsyncClient`` shared from the lifespan, passes too, and so does
making ``price_of`` and the endpoint plain ``def``.)
"""

import asyncio
import json
import os
import urllib.request

from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


def fetch_record(item_id: int) -> dict[str, object]:
    with urllib.request.urlopen(f"{UPSTREAM_URL}/legacy/{item_id}", timeout=5) as answer:
        return json.loads(answer.read())


async def price_of(item_id: int) -> int:
    record = await asyncio.to_thread(fetch_record, item_id)
    return 100 + int(str(record["item_id"]))


@app.get("/products/{item_id}")
async def show_product(item_id: int) -> dict[str, object]:
    if not 1 <= item_id <= 200:
        raise HTTPException(404, f"no product {item_id}")
    return {"id": item_id, "name": f"item-{item_id}", "price_cents": await price_of(item_id)}


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}
