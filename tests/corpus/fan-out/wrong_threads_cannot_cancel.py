"""Wrong: a def endpoint fans out to a thread pool with a sync client, under a shared
threading semaphore of 10. Fast and within the limit, but a thread cannot be cancelled:
when one call fails, the others run to their end while the dashboard has answered 502.
"""
# expect-fail: siblings-cancelled

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi import FastAPI, HTTPException

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
PARTS = ("profile", "orders", "messages", "recommendations", "billing")

client = httpx.Client(base_url=UPSTREAM_URL, timeout=10)
pool = ThreadPoolExecutor(max_workers=50)
upstream_slots = threading.BoundedSemaphore(10)

app = FastAPI()


def fetch(part: str, user: str) -> dict:
    with upstream_slots:
        response = client.get(f"/parts/{part}/{user}")
    response.raise_for_status()
    return response.json()


@app.get("/dashboard/{user}")
def dashboard(user: str):
    futures = {part: pool.submit(fetch, part, user) for part in PARTS}
    page = {"user": user}
    try:
        for part, future in futures.items():
            page[part] = future.result()
    except httpx.HTTPError:
        for future in futures.values():
            future.cancel()  # only a call that has not started yet can be cancelled
        raise HTTPException(502, "upstream failed") from None
    return page
