"""Notebook 07's database gauge: what the connection pool did, seen from inside the app.

Not part of the lesson apps' logic: each app of the database section registers its engine
with :func:`watch` and mounts ``router``, so the notebook can read which pool SQLAlchemy
chose, its limits, and the most connections checked out and requests waiting at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter
from sqlalchemy import event
from sqlalchemy.pool import Pool

router = APIRouter(prefix="/lab")
_lock = threading.Lock()  # the sync app counts from 40 worker threads at once
_pool: Pool | None = None
_now = {"checked_out": 0, "waiting": 0}
_peak = {"checked_out": 0, "waiting": 0}


def _add(key: str, n: int) -> None:
    with _lock:
        _now[key] += n
        _peak[key] = max(_peak[key], _now[key])


def _slow_query(seconds: float) -> float:
    time.sleep(seconds)  # in the database's thread, like a slow query on a server
    return seconds


def watch(pool: Pool) -> None:
    """Count checkouts of ``pool``; give each new connection a ``sleep(s)`` SQL function."""
    global _pool
    _pool = pool

    @event.listens_for(pool, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLite has no pg_sleep: a Python function called from SQL stands in for it
        dbapi_connection.create_function("sleep", 1, _slow_query)

    @event.listens_for(pool, "checkout")
    def _checkout(*_: Any) -> None:
        _add("checked_out", 1)

    @event.listens_for(pool, "checkin")
    def _checkin(*_: Any) -> None:
        _add("checked_out", -1)


@contextmanager
def waiting() -> Iterator[None]:
    """Around a request's wait for a connection: counts the requests waiting at once."""
    _add("waiting", 1)
    try:
        yield
    finally:
        _add("waiting", -1)


@router.get("/pool")
async def pool_state() -> dict[str, Any]:
    assert _pool is not None
    return {
        "pool": type(_pool).__name__,
        "size": _pool.size(),  # type: ignore[attr-defined]
        "max_overflow": _pool._max_overflow,  # type: ignore[attr-defined]
        "timeout": _pool.timeout(),  # type: ignore[attr-defined]
        "peak_checked_out": _peak["checked_out"],
        "peak_waiting": _peak["waiting"],
    }


@router.post("/pool/reset")
async def reset() -> dict[str, int]:
    with _lock:
        _peak.update(_now)
    return dict(_peak)
