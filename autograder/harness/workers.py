"""Serve one submission with uvicorn's own multi-process supervisor, as ``uvicorn --workers N`` does.

``serve.py --workers N`` (N > 1) runs :func:`serve_workers` in the harness's process.
It hands the listening socket the grader bound to uvicorn's ``Multiprocess``, the
supervisor ``uvicorn.main.run`` starts for ``--workers`` with the one socket it binds:
every worker is a ``spawn`` child that receives a duplicate of that socket (the same
listening socket, not a copy) and serves it with a loop of its own
(``loop.create_server(sock=...)``). No process hands connections out: the kernel
wakes the workers waiting on the socket, and whichever calls ``accept`` first gets the
connection (asyncio then accepts every pending connection, up to the backlog, in one go).

Each worker loads :func:`worker_app`, the factory that gives it the same harness as a
single worker: asyncio's default executor of 40 threads, the loop probe, the lag
monitor and stall watchdog, log capture; its records in the report carry its pid.
The harness reports ``imported`` and ``ready`` on the status pipe once uvicorn's own
health check says every worker is serving, then supervises them as uvicorn does; on
SIGTERM uvicorn stops every worker and waits for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from autograder.harness import app as harness

SPEC_VAR = "AUTOGRADER_WORKER_SPEC"
READY_WITHIN = 20.0  # each worker imports the app on its own
_running: list[Any] = []  # the worker's monitor tasks: kept alive as long as its loop


class _Tagged(harness.Channel):
    """A report channel whose records name the worker that wrote them."""

    def __call__(self, obj: dict[str, Any]) -> None:
        super().__call__({**obj, "pid": os.getpid()})


def worker_app() -> Any:
    """The app factory each worker loads (``factory=True``): import the submission in this
    worker, start its monitors on this worker's running loop, and wrap it with the probe."""
    spec = json.loads(os.environ[SPEC_VAR])
    report = _Tagged(open(spec["report"], "a", buffering=1))  # noqa: SIM115 (lives as long as the worker)
    harness.capture_logging(report)
    watched = os.path.abspath(spec["watch"] or spec["app_file"])
    try:
        if spec["module"]:
            module = harness.import_module(spec["module"], spec["app_dir"])
        else:
            module = harness.import_file(spec["app_file"])
    except BaseException as exc:  # the submission's failure: the harness reports it
        report(
            {
                "kind": "worker_error",
                "message": f"the submission does not import: {type(exc).__name__}: {exc}",
                "traceback": harness.app_traceback(exc, watched),
            }
        )
        raise SystemExit(3) from None
    harness.collect_import_garbage()
    app = getattr(module, spec["attr"], None)
    if not callable(app):
        report({"kind": "worker_error", "message": f"`{spec['attr']}` is not an ASGI application"})
        raise SystemExit(3)
    loop = asyncio.get_running_loop()  # uvicorn loads the app inside the worker's loop
    loop.set_default_executor(ThreadPoolExecutor(max_workers=harness.DEFAULT_EXECUTOR_WORKERS))
    from autograder.harness.lag import LagMonitor

    monitor = LagMonitor(watched, report)
    _running.append(loop.create_task(monitor.sampler()))
    if spec["tokens"]:
        _running.append(loop.create_task(harness.report_tokens(report)))
    monitor.start_watchdog()
    report({"kind": "worker", "t": time.monotonic()})
    return harness.with_probe(app)


def serve_workers(args: Any, sock: socket.socket, status: harness.Channel, report_path: str) -> int:
    """Serve with ``args.workers`` worker processes until SIGTERM; return the exit status."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[SPEC_VAR] = json.dumps(
        {
            "app_file": args.app_file,
            "module": args.module,
            "app_dir": args.app_dir,
            "attr": args.attr,
            "watch": args.watch,
            "tokens": args.tokens,
            "report": report_path,
        }
    )
    config = uvicorn.Config(
        f"{__name__}:worker_app",
        factory=True,
        workers=args.workers,
        loop="asyncio",
        http="h11",
        **harness.ws_options(),
        lifespan="auto",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )

    served: list[int] = []

    class Supervisor(Multiprocess):
        def init_processes(self) -> None:
            super().init_processes()
            deadline = time.monotonic() + READY_WITHIN  # the workers start side by side
            for process in self.processes:
                left = max(deadline - time.monotonic(), 0.1)
                if not process.wait_until_ready(left, self.should_exit):
                    status({"event": "error", "message": _failure(process, report_path)})
                    self.should_exit.set()  # run() then stops every worker and waits
                    return
            served.extend(p.pid for p in self.processes if p.pid is not None)
            status({"event": "imported", "t": time.monotonic()})
            status({"event": "ready", "t": time.monotonic(), "workers": served})

    Supervisor(config, sockets=[sock]).run()
    return 0 if served else 3


def _failure(process: Any, report_path: str) -> str:
    """Why a worker did not start serving: its own report, or its exit status."""
    errors = []
    try:
        with open(report_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("kind") == "worker_error":
                    errors.append(record["message"] + "\n" + record.get("traceback", ""))
    except OSError:
        pass
    if errors:
        return errors[-1].rstrip()
    code = process.exitcode
    return f"a worker process did not start serving (exit status {code})" + (
        "" if code is not None else f" within {READY_WITHIN:.0f} s"
    )
