"""A plain def endpoint calling a 0.3 s upstream with a synchronous client."""

import json
import os
import urllib.request

from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


@app.get("/items/{item_id}")
def item(item_id: int):
    with urllib.request.urlopen(f"{UPSTREAM_URL}/legacy/{item_id}", timeout=30) as r:
        return json.load(r)
