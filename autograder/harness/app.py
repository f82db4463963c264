"""What the harness needs inside the app's process, with one worker or several: importing
the app (a file, or uvicorn's ``module:attribute``), the loop probe in front of it, the
JSON-lines channel the reports go through, log capture, the thread limiter's tokens, and
a traceback cut to the app's own frames.

Standard library only (anyio when the tokens are asked for): this runs in the app's
interpreter.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any, TextIO

DEFAULT_EXECUTOR_WORKERS = 40
PROBE_PATH = "/__autograder__/probe"
# The thread probe: answered once ``time.sleep(hold)`` has run both in a thread of AnyIO's
# default limiter (where FastAPI runs a ``def`` endpoint and a sync generator's ``next()``)
# and in asyncio's default executor (``asyncio.to_thread``): its latency, timed by the
# grader, is how long a ``def`` endpoint would wait for a worker thread.
THREADS_PATH = "/__autograder__/threads"
THREADS_MAX_HOLD = 1.0
# The app's WebSocket routes as it declares them (the OpenAPI schema lists none): JSON
# ``{"served": bool, "routes": [{"path": "/ws/{room}", "params": {"room": "StringConvertor"}}]}``.
# ``served`` is false when uvicorn serves no WebSockets here (:func:`ws_options`).
WEBSOCKETS_PATH = "/__autograder__/websockets"


class Channel:
    """Line-oriented JSON writer, safe to call from any thread."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, default=str) + "\n"
        with self._lock:
            try:
                self._stream.write(line)
                self._stream.flush()
            except (OSError, ValueError):
                pass


last_error: list[str] = []


def capture_logging(report: Channel) -> None:
    """Record every log record at WARNING or above that any logger handles.

    Wrapping ``Logger.callHandlers`` sees records whatever handlers the submission
    configures, without adding a handler of ours (which would turn the submission's
    own ``logging.basicConfig`` into a no-op).
    """
    original = logging.Logger.callHandlers
    last_error.clear()

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            try:
                message = record.getMessage()
            except Exception:  # a bad format string is the submission's bug, not ours
                message = str(record.msg)
            exception = None
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                exception = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}".removeprefix(
                    "builtins."
                )
            if record.levelno >= logging.ERROR and not message.startswith(
                "Application startup failed"
            ):
                # Kept for a start-up failure's message: the exception, or the last line of a
                # logged traceback, names what went wrong.
                if record.exc_info and record.exc_info[1] is not None:
                    exc = record.exc_info[1]
                    last_error[:] = [f"{type(exc).__name__}: {exc}"]
                elif message.strip():
                    last_error[:] = [exception_line(message)]
            report(
                {
                    "kind": "log",
                    "t": time.monotonic(),
                    "level": record.levelname,
                    "levelno": record.levelno,
                    "logger": record.name,
                    "message": message,
                    **({"exception": exception} if exception else {}),
                }
            )
        original(self, record)

    logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign]


def exception_line(text: str) -> str:
    """The line of a logged traceback that names the exception (``sqlalchemy.exc.
    OperationalError: ...``), not the notes printed after it; else its last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if (
            ":" in line
            and " " not in head
            and head.rsplit(".", 1)[-1].endswith(
                ("Error", "Exception", "Exit", "Interrupt", "Failure")
            )
        ):
            return line
    return lines[-1]


def import_file(path: str) -> Any:
    """Import the file under its own name, its folder on ``sys.path``: a process pool with
    the spawn or forkserver start method pickles functions by module name, and its
    workers must be able to import that module again."""
    name = os.path.splitext(os.path.basename(path))[0]
    if not name.isidentifier() or name in sys.modules or name in sys.stdlib_module_names:
        name = "submission"
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def collect_import_garbage() -> None:
    """One full garbage collection once the app is imported, before it serves. Importing
    FastAPI and its stack (from compiled bytecode) leaves enough objects that the
    interpreter's first full collection otherwise falls on the first requests and stops
    the event loop for about 90 ms: a start-up cost, not the service's behaviour."""
    gc.collect()


def import_module(name: str, app_dir: str) -> Any:
    """Import ``name`` the way uvicorn's ``module:attribute`` does, ``app_dir`` first on the path."""
    import importlib

    sys.path.insert(0, app_dir)
    return importlib.import_module(name)


async def report_tokens(report: Channel) -> None:
    """The thread limiter's borrowed tokens, whenever they change (explains, never decides)."""
    import anyio.to_thread

    limiter = anyio.to_thread.current_default_thread_limiter()
    last = None
    while True:
        now = (limiter.borrowed_tokens, limiter.total_tokens)
        if now != last:
            report({"kind": "tokens", "t": time.monotonic(), "borrowed": now[0], "total": now[1]})
            last = now
        await asyncio.sleep(0.005)


async def _hold_threads(query: bytes) -> None:
    """The thread probe's work: ``hold`` seconds (``?hold=S``, at most THREADS_MAX_HOLD)
    in one thread of each pool at once."""
    import urllib.parse

    import anyio.to_thread

    try:
        hold = float(urllib.parse.parse_qs(query.decode("latin-1"))["hold"][0])
    except (KeyError, ValueError):
        hold = 0.0
    hold = min(max(hold, 0.0), THREADS_MAX_HOLD)
    await asyncio.gather(
        anyio.to_thread.run_sync(time.sleep, hold),
        asyncio.get_running_loop().run_in_executor(None, time.sleep, hold),
    )


def websocket_routes(app: Any) -> list[dict[str, Any]]:
    """The WebSocket routes ``app`` declares: Starlette's ``WebSocketRoute`` (FastAPI's
    ``APIWebSocketRoute`` is one), under its ``Mount``s too, each with its path parameters'
    convertors. Read by class name: the harness imports neither Starlette nor FastAPI."""
    out: list[dict[str, Any]] = []

    def walk(routes: Any, prefix: str, params: dict[str, str], depth: int) -> None:
        for route in routes if isinstance(routes, list | tuple) else ():
            kinds = {c.__name__ for c in type(route).__mro__}
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                continue
            convertors = getattr(route, "param_convertors", None) or {}
            named = {k: type(v).__name__ for k, v in convertors.items() if "{" + k in path}
            mine = {**params, **named}  # a Mount's own catch-all ``path`` is not the app's
            if "WebSocketRoute" in kinds:
                out.append({"path": prefix + path, "params": mine})
            elif "Mount" in kinds and depth < 8:
                walk(getattr(route, "routes", None), prefix + path, mine, depth + 1)

    try:
        walk(getattr(app, "routes", None), "", {}, 0)
    except Exception:  # an app whose routes cannot be read declares none we can see
        return out
    return out


def with_probe(app: Any) -> Any:
    """Answer the grader's loop probe on the loop itself, and its thread probe once a
    thread of each pool has run it, before the submission's app; list the app's WebSocket
    routes at ``WEBSOCKETS_PATH``."""
    served = ws_options()["ws"] != "none"

    async def probed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in (PROBE_PATH, THREADS_PATH):
            if scope["path"] == THREADS_PATH:
                await _hold_threads(scope.get("query_string", b""))
            await _answer(send, b"ok", b"text/plain")
            return
        if scope["type"] == "http" and scope["path"] == WEBSOCKETS_PATH:
            listing = {"served": served, "routes": websocket_routes(app)}
            await _answer(send, json.dumps(listing).encode(), b"application/json")
            return
        await app(scope, receive, send)

    return probed


async def _answer(send: Any, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def owned(filename: str, path: str) -> bool:
    """``filename`` is the submission's: ``path`` itself, or a file under the directory
    ``path`` that is not an installed package (nor code made at run time: ``<string>``)."""
    if filename.startswith("<"):
        return False
    filename = os.path.abspath(filename)
    if filename == path:
        return True
    return filename.startswith(path + os.sep) and not {"site-packages", "dist-packages"} & set(
        filename.split(os.sep)
    )


def app_traceback(exc: BaseException, path: str) -> str:
    """The traceback's frames in the submission only: the harness's are noise to a student."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if owned(f.filename, path)]
    return "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(exc))


WS_PING_INTERVAL = 1.0  # uvicorn's keepalive ping, every second on each WebSocket
WS_PING_TIMEOUT = 4.0  # a member that answers no ping for this long is closed (1011)


def ws_options() -> dict[str, Any]:
    """How uvicorn serves WebSockets here: ``websockets``' sans-I/O protocol (what uvicorn's
    ``auto`` picks when the package is installed, so a student's own ``uvicorn app:app``
    runs the same code) with the grader's keepalive. A submission cannot ping through ASGI,
    so the keepalive, and whether a vanished member is found, is the server's. Where the
    served environment lacks it (a scanned service on an older uvicorn, or without the
    ``websockets`` package) WebSockets stay off, as before, and HTTP is served alike."""
    import importlib.util

    try:
        from uvicorn.config import WS_PROTOCOLS

        usable = "websockets-sansio" in WS_PROTOCOLS and bool(
            importlib.util.find_spec("websockets")
        )
    except (ImportError, ValueError):
        usable = False
    if not usable:
        return {"ws": "none"}
    return {
        "ws": "websockets-sansio",
        "ws_ping_interval": WS_PING_INTERVAL,
        "ws_ping_timeout": WS_PING_TIMEOUT,
    }
