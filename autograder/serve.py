"""Serve one submission with uvicorn, in the grading environment. Runs in the submission's process.

``python -m autograder.serve APP_FILE --fd N --status-fd S --report PATH``

``scan`` adds ``--module NAME --app-dir DIR`` (import the module by name, uvicorn's
``module:attribute`` form), ``--attr NAME`` (the attribute that holds the app), ``--watch
DIR`` (the stall watchdog names frames of any file under DIR) and ``--tokens`` (report
the thread limiter's borrowed tokens).

The grader starts this in a fresh process of its own. It fixes the environment the
contract names (asyncio's default executor of 40 workers; uvicorn on asyncio + h11, one
worker, or ``--workers N`` under uvicorn's own supervisor: ``workers.py``), imports the
submission, and serves it on a listening socket the grader bound
(so the port is known before this process starts).

It tells the grader how the start went on the status pipe (one JSON object a line:
``imported``, ``ready``, or ``error`` with a message) and writes what it observed inside
the process to the report file (stall samples for the diagnosis, lag trace, log records
at WARNING and above). Those observations explain a verdict; they never decide one.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

DEFAULT_EXECUTOR_WORKERS = 40
PROBE_PATH = "/__autograder__/probe"


class _Channel:
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


_last_error: list[str] = []


def _capture_logging(report: _Channel) -> None:
    """Record every log record at WARNING or above that any logger handles.

    Wrapping ``Logger.callHandlers`` sees records whatever handlers the submission
    configures, without adding a handler of ours (which would turn the submission's
    own ``logging.basicConfig`` into a no-op).
    """
    original = logging.Logger.callHandlers
    _last_error.clear()

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            try:
                message = record.getMessage()
            except Exception:  # a bad format string is the submission's bug, not ours
                message = str(record.msg)
            if record.levelno >= logging.ERROR and not message.startswith(
                "Application startup failed"
            ):
                # Kept for a start-up failure's message: the exception, or the last line of a
                # logged traceback, names what went wrong.
                if record.exc_info and record.exc_info[1] is not None:
                    exc = record.exc_info[1]
                    _last_error[:] = [f"{type(exc).__name__}: {exc}"]
                elif message.strip():
                    _last_error[:] = [message.strip().splitlines()[-1]]
            report(
                {
                    "kind": "log",
                    "t": time.monotonic(),
                    "level": record.levelname,
                    "levelno": record.levelno,
                    "logger": record.name,
                    "message": message,
                }
            )
        original(self, record)

    logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign]


def _import_submission(path: str) -> Any:
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


def _import_module(name: str, app_dir: str) -> Any:
    """Import ``name`` the way uvicorn's ``module:attribute`` does, ``app_dir`` first on the path."""
    import importlib

    sys.path.insert(0, app_dir)
    return importlib.import_module(name)


async def _report_tokens(report: _Channel) -> None:
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


def _with_probe(app: Any) -> Any:
    """Answer the grader's loop probe on the loop itself, before the submission's app."""

    async def probed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == PROBE_PATH:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
                }
            )
            await send({"type": "http.response.body", "body": b"ok"})
            return
        await app(scope, receive, send)

    return probed


class _Pinned:
    """What the harness serves with, looked up before the submission runs a line: a
    submission that replaces ``__main__._with_probe``, ``uvicorn.Server`` or asyncio's
    loop class afterwards changes nothing here. (Nothing it does in its own process can
    change a verdict anyway: every deciding figure is measured outside it.)"""

    def __init__(self) -> None:
        import uvicorn

        from autograder.lag import LagMonitor

        self.server_class = uvicorn.Server
        self.config_class = uvicorn.Config
        self.monitor_class = LagMonitor
        self.with_probe = _with_probe
        self.executor_class = ThreadPoolExecutor
        self.loop_factory = asyncio.SelectorEventLoop
        self.runner_class = asyncio.Runner


async def _serve(
    app: Any,
    sock: socket.socket,
    status: _Channel,
    report: _Channel,
    path: str,
    pinned: _Pinned,
    tokens: bool = False,
) -> None:
    LagMonitor = pinned.monitor_class  # noqa: N806
    loop = asyncio.get_running_loop()
    loop.set_default_executor(pinned.executor_class(max_workers=DEFAULT_EXECUTOR_WORKERS))
    monitor = LagMonitor(path, report)
    sampler = asyncio.create_task(monitor.sampler())
    counter = asyncio.create_task(_report_tokens(report)) if tokens else None
    monitor.start_watchdog()

    class Server(pinned.server_class):  # type: ignore[name-defined]
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                status({"event": "ready", "t": time.monotonic()})

    config = pinned.config_class(
        pinned.with_probe(app),
        loop="asyncio",
        http="h11",
        ws="none",
        workers=1,
        lifespan="auto",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = Server(config)
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exc:  # uvicorn exits with 3 when the lifespan's startup fails
        if server.started:
            raise
        status(
            {
                "event": "error",
                "message": f"the app's lifespan startup failed (uvicorn exited with status {exc.code})"
                + (f": {_last_error[0]}" if _last_error else ""),
            }
        )
        return
    finally:
        monitor.stop()
        sampler.cancel()
        if counter is not None:
            counter.cancel()
    if not server.started:
        status({"event": "error", "message": "uvicorn stopped before serving"})


def _owned(filename: str, path: str) -> bool:
    """``filename`` is the submission's: ``path`` itself, or a file under the directory
    ``path`` that is not an installed package."""
    filename = os.path.abspath(filename)
    if filename == path:
        return True
    return filename.startswith(path + os.sep) and not {"site-packages", "dist-packages"} & set(
        filename.split(os.sep)
    )


def _submission_traceback(exc: BaseException, path: str) -> str:
    """The traceback's frames in the submission only: the harness's are noise to a student."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _owned(f.filename, path)]
    return "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(exc))


def _positive(text: str) -> int:
    """A count of at least 1 (argparse answers anything else with a usage message)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a submission (run by the grader).")
    parser.add_argument("app_file")
    parser.add_argument("--fd", type=int, required=True, help="listening socket to serve on")
    parser.add_argument("--status-fd", type=int, required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--module", help="import this module by name instead of APP_FILE")
    parser.add_argument("--app-dir", default=".", help="put first on sys.path for --module")
    parser.add_argument("--attr", default="app", help="the attribute that holds the app")
    parser.add_argument("--watch", help="name stalled frames of files under this directory")
    parser.add_argument("--tokens", action="store_true", help="report borrowed thread tokens")
    parser.add_argument(
        "--workers", type=_positive, default=1, help="worker processes (uvicorn's --workers)"
    )
    args = parser.parse_args(argv)

    status = _Channel(os.fdopen(args.status_fd, "w", buffering=1))
    report = _Channel(open(args.report, "a", buffering=1))  # noqa: SIM115 (lives as long as the process)
    sock = socket.socket(fileno=args.fd)
    _capture_logging(report)
    if args.workers > 1:  # uvicorn's own supervisor; each worker imports the submission
        from autograder.workers import serve_workers

        return serve_workers(args, sock, status, args.report)
    pinned = _Pinned()

    try:
        if args.module:
            module = _import_module(args.module, args.app_dir)
        else:
            module = _import_submission(args.app_file)
    except SystemExit as exc:
        status(
            {
                "event": "error",
                "message": f"the submission called sys.exit({exc.code!r}) while being imported",
            }
        )
        return 3
    except BaseException as exc:  # the submission's own failure, reported to the grader
        status(
            {
                "event": "error",
                "message": f"the submission does not import: {type(exc).__name__}: {exc}",
                "traceback": _submission_traceback(
                    exc, os.path.abspath(args.watch or args.app_file)
                ),
            }
        )
        return 3
    status({"event": "imported", "t": time.monotonic()})
    app = getattr(module, args.attr, None)
    if app is None:
        status(
            {"event": "error", "message": f"the submission defines no module-level `{args.attr}`"}
        )
        return 3
    if not callable(app):
        status(
            {
                "event": "error",
                "message": f"`{args.attr}` is a {type(app).__name__}, not an ASGI application",
            }
        )
        return 3

    # The stock asyncio loop, whatever policy or extras (uvloop) are installed.
    with pinned.runner_class(loop_factory=pinned.loop_factory) as runner:
        try:
            watched = os.path.abspath(args.watch or args.app_file)
            runner.run(_serve(app, sock, status, report, watched, pinned, args.tokens))
        except BaseException as exc:
            status(
                {"event": "error", "message": f"the server crashed: {type(exc).__name__}: {exc}"}
            )
            return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
