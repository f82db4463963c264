"""Notebook 03: background tasks, watched from the outside.

Every task notes when it started and ended, and on which thread, in ``EVENTS``
(``GET /events``): ``time.monotonic()`` is one clock for every process on the machine,
so the notebook can lay these times beside the moment its client got the answer.
"""

import asyncio
import functools
import inspect
import logging
import os
import smtplib
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import JSONResponse

STEP = 0.3
SMTP_HOST = os.environ["SMTP_HOST"]
SMTP_PORT = int(os.environ["SMTP_PORT"])

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("shop.tasks")
app = FastAPI()
EVENTS: list[dict[str, Any]] = []


@app.exception_handler(Exception)
async def unhandled(request: Request, exc: Exception) -> JSONResponse:
    """One place for every unhandled exception, a background task's included.

    Starlette's ``ServerErrorMiddleware`` calls it even when the response has already
    been sent (it then cannot send this one, and re-raises for the server to log)."""
    logging.getLogger("shop.errors").error("%s %s failed: %r", request.method, request.url.path, exc)
    return JSONResponse({"error": "internal"}, status_code=500)


def note(order: str, name: str, **fields: Any) -> dict[str, Any]:
    event = {
        "order": order,
        "name": name,
        "start": time.monotonic(),
        "end": None,
        "thread": threading.current_thread().name,
        **fields,
    }
    EVENTS.append(event)
    return event


def def_step(order: str, name: str) -> None:
    event = note(order, name, kind="def")
    time.sleep(STEP)  # a worker thread waits; the loop is free
    event["end"] = time.monotonic()


async def async_step(order: str, name: str) -> None:
    event = note(order, name, kind="async def")
    await asyncio.sleep(STEP)
    event["end"] = time.monotonic()


async def async_blocking_step(order: str, name: str) -> None:
    event = note(order, name, kind="async def, blocking")
    time.sleep(STEP)  # noqa: ASYNC251  (the lesson: an async def task runs on the loop)
    event["end"] = time.monotonic()


def failing_step(order: str, name: str) -> None:
    note(order, name, kind="def")
    raise RuntimeError(f"payment service refused order {order}")


def logged(task: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a task so its exception is logged and the tasks after it still run.

    The wrapper keeps the task's kind: Starlette runs a coroutine function on the loop
    and anything else in the thread pool, so a sync task needs a sync wrapper.
    """
    if inspect.iscoroutinefunction(task):

        @functools.wraps(task)
        async def guarded_async(*args: Any, **kwargs: Any) -> None:
            try:
                await task(*args, **kwargs)
            except Exception:
                log.exception("background task %s%r failed", task.__name__, args)

        return guarded_async

    @functools.wraps(task)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            task(*args, **kwargs)
        except Exception:
            log.exception("background task %s%r failed", task.__name__, args)

    return guarded


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/events")
async def events() -> list[dict[str, Any]]:
    return EVENTS


@app.post("/orders/{order}")
async def order(order: str, tasks: BackgroundTasks) -> dict[str, Any]:
    tasks.add_task(def_step, order, "1 invoice (def)")
    tasks.add_task(async_step, order, "2 notify (async def)")
    tasks.add_task(def_step, order, "3 archive (def)")
    return {"accepted": order, "answered_at": time.monotonic()}


@app.post("/orders-blocking/{order}")
async def order_blocking(order: str, tasks: BackgroundTasks) -> dict[str, Any]:
    tasks.add_task(async_blocking_step, order, "1 invoice (async def + time.sleep)")
    return {"accepted": order, "answered_at": time.monotonic()}


@app.post("/orders-failing/{order}")
async def order_failing(order: str, tasks: BackgroundTasks) -> dict[str, Any]:
    tasks.add_task(def_step, order, "1 invoice")
    tasks.add_task(failing_step, order, "2 charge (raises)")
    tasks.add_task(def_step, order, "3 archive")
    return {"accepted": order}


@app.post("/orders-logged/{order}")
async def order_logged(order: str, tasks: BackgroundTasks) -> dict[str, Any]:
    tasks.add_task(logged(def_step), order, "1 invoice")
    tasks.add_task(logged(failing_step), order, "2 charge (raises)")
    tasks.add_task(logged(def_step), order, "3 archive")
    return {"accepted": order}


def send_receipt(order: str, render: float) -> None:
    """Render the receipt (``render`` seconds of slow work), then email it."""
    event = note(order, "receipt", kind="def")
    time.sleep(render)
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = "customer@example.com"
    msg["Subject"] = f"Receipt for order {order}"
    msg.set_content(f"Thank you for order {order}.")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(msg)
    event["end"] = time.monotonic()


@app.post("/receipts/{order}", status_code=202)
async def receipt(order: str, tasks: BackgroundTasks, render: float = 1.0) -> dict[str, str]:
    tasks.add_task(send_receipt, order, render)
    return {"accepted": order}
