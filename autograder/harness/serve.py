"""Serve one submission with uvicorn, in the grading environment. Runs in the submission's process.

``python -m autograder.harness.serve APP_FILE --fd N --status-fd S --report PATH``

``scan`` adds ``--module NAME --app-dir DIR`` (import the module by name, uvicorn's
``module:attribute`` form), ``--attr NAME`` (the attribute that holds the app), ``--watch
DIR`` (the stall watchdog names frames of any file under DIR) and ``--tokens`` (report
the thread limiter's borrowed tokens).

The grader starts this in a fresh process of its own. It fixes the environment the
contract names (asyncio's default executor of 40 workers; uvicorn on asyncio + h11, one
worker, or ``--workers N`` under uvicorn's own supervisor: ``workers.py``; WebSockets with
the ``websockets`` package's sans-I/O protocol and the grader's keepalive, :func:`ws_options`),
imports the
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
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from autograder.harness.app import (
    DEFAULT_EXECUTOR_WORKERS,
    Channel,
    app_traceback,
    capture_logging,
    collect_import_garbage,
    import_file,
    import_module,
    last_error,
    report_tokens,
    with_probe,
    ws_options,
)


class _Pinned:
    """What the harness serves with, looked up before the submission runs a line: a
    submission that replaces ``__main__.with_probe``, ``uvicorn.Server`` or asyncio's
    loop class afterwards changes nothing here. (Nothing it does in its own process can
    change a verdict anyway: every deciding figure is measured outside it.)"""

    def __init__(self) -> None:
        import uvicorn

        from autograder.harness.lag import LagMonitor

        self.server_class = uvicorn.Server
        self.config_class = uvicorn.Config
        self.monitor_class = LagMonitor
        self.with_probe = with_probe
        self.executor_class = ThreadPoolExecutor
        self.loop_factory = asyncio.SelectorEventLoop
        self.run = run_on(self.loop_factory)
        self.ws = ws_options()


def run_on(loop_factory: Any) -> Any:
    """Run a coroutine to its end on a loop of ``loop_factory``'s (``asyncio.Runner``
    before Python 3.11 had it: the app's own interpreter may be 3.10)."""
    runner_class = getattr(asyncio, "Runner", None)

    def run(coro: Any) -> None:
        if runner_class is not None:
            with runner_class(loop_factory=loop_factory) as runner:
                runner.run(coro)
            return
        loop = loop_factory()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(coro)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    return run


def supported(config_class: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The options this uvicorn's ``Config`` knows: a service may pin an older release
    (``timeout_graceful_shutdown`` came in 0.22.0; without it, uvicorn waits as it did)."""
    import inspect

    try:
        known = inspect.signature(config_class).parameters
    except (TypeError, ValueError):
        return options
    return {k: v for k, v in options.items() if k in known}


async def _serve(
    app: Any,
    sock: socket.socket,
    status: Channel,
    report: Channel,
    path: str,
    pinned: _Pinned,
    tokens: bool = False,
) -> None:
    LagMonitor = pinned.monitor_class  # noqa: N806
    loop = asyncio.get_running_loop()
    loop.set_default_executor(pinned.executor_class(max_workers=DEFAULT_EXECUTOR_WORKERS))
    monitor = LagMonitor(path, report)
    sampler = asyncio.create_task(monitor.sampler())
    counter = asyncio.create_task(report_tokens(report)) if tokens else None
    monitor.start_watchdog()

    class Server(pinned.server_class):  # type: ignore[name-defined]
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                status({"event": "ready", "t": time.monotonic()})

    options = {
        "loop": "asyncio",
        "http": "h11",
        **pinned.ws,
        "workers": 1,
        "lifespan": "auto",
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 1,
    }
    config = pinned.config_class(pinned.with_probe(app), **supported(pinned.config_class, options))
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
                + (f": {last_error[0]}" if last_error else ""),
            }
        )
        return
    finally:
        monitor.stop()
        sampler.cancel()
        if counter is not None:
            counter.cancel()
    if not server.started:
        status(
            {
                "event": "error",
                "message": "uvicorn stopped before serving"
                + (f": {last_error[0]}" if last_error else ""),
            }
        )


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
    parser.add_argument("--factory", action="store_true", help="call --attr to make the app")
    parser.add_argument("--noun", default="the submission", help="what messages call the app")
    parser.add_argument(
        "--workers", type=_positive, default=1, help="worker processes (uvicorn's --workers)"
    )
    args = parser.parse_args(argv)

    status = Channel(os.fdopen(args.status_fd, "w", buffering=1))
    report = Channel(open(args.report, "a", buffering=1))  # noqa: SIM115 (lives as long as the process)
    sock = socket.socket(fileno=args.fd)
    capture_logging(report)
    if args.workers > 1:  # uvicorn's own supervisor; each worker imports the submission
        from autograder.harness.workers import serve_workers

        return serve_workers(args, sock, status, args.report)
    pinned = _Pinned()
    noun = args.noun

    try:
        if args.module:
            module = import_module(args.module, args.app_dir)
        else:
            module = import_file(args.app_file)
    except SystemExit as exc:
        status(
            {
                "event": "error",
                "message": f"{noun} called sys.exit({exc.code!r}) while being imported",
            }
        )
        return 3
    except BaseException as exc:  # the submission's own failure, reported to the grader
        status(
            {
                "event": "error",
                "message": f"{noun} does not import: {type(exc).__name__}: {exc}",
                "traceback": app_traceback(exc, os.path.abspath(args.watch or args.app_file)),
            }
        )
        return 3
    status({"event": "imported", "t": time.monotonic()})
    collect_import_garbage()
    app = getattr(module, args.attr, None)
    if app is not None and args.factory:  # uvicorn --factory: the attribute makes the app
        try:
            app = app()
        except BaseException as exc:  # the app's own failure
            status(
                {
                    "event": "error",
                    "message": f"the factory `{args.attr}()` failed: {type(exc).__name__}: {exc}",
                    "traceback": app_traceback(exc, os.path.abspath(args.watch or args.app_file)),
                }
            )
            return 3
    if app is None:
        status({"event": "error", "message": f"{noun} defines no module-level `{args.attr}`"})
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
    try:
        watched = os.path.abspath(args.watch or args.app_file)
        pinned.run(_serve(app, sock, status, report, watched, pinned, args.tokens))
    except BaseException as exc:
        status({"event": "error", "message": f"the server crashed: {type(exc).__name__}: {exc}"})
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
