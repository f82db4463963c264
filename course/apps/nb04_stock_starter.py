"""Your turn, notebook 04: a stock lookup.

``GET /legacy/{item_id}`` asks the warehouse (the course's upstream: 0.3 s per answer)
for an item. The client comes from a ``def`` yield dependency, the endpoint is a plain
``def`` with a response model: the dependency's set-up, the call and the check of the
answer each borrow a token from AnyIO's 40. A hundred lookups at once reach the
warehouse forty at a time. Make all hundred reach it together.
"""

import os
from collections.abc import Iterator
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from pydantic import BaseModel

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


class Item(BaseModel):
    item_id: int
    name: str


def warehouse() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=UPSTREAM_URL, timeout=10) as client:
        yield client


@app.get("/legacy/{item_id}")
def lookup(item_id: int, client: Annotated[httpx.Client, Depends(warehouse)]) -> Item:
    return client.get(f"/legacy/{item_id}").json()
