"""The measuring engine, with a blocking API for notebooks, drills and scripts.

A Jupyter kernel already runs an event loop, so ``asyncio.run`` (and ``uvicorn.run``)
fail in a cell. The lab keeps one private event loop in a daemon thread and runs the
grader's own coroutines there: the same runner (the app in its own process, beside
real dependency servers) and the same :class:`~autograder.measure.session.Session`, so a
notebook, a drill and the grader measure with the same code and get the same
:class:`~autograder.measure.burst.Burst` record.

    from autograder import lab

    from autograder.lab import plots

    with lab.serve("course/apps/nb02_endpoints.py") as app:
        burst = app.burst("GET", "/async-sleep", n=20, probe="/health")
    print(burst.total, burst.max_probe_latency)
    plots.burst_figure(burst, "20 x GET /async-sleep")

Everything a ``serve`` block starts is stopped when the block ends, even when a cell
fails; :func:`stop_all` (also run at exit) stops whatever is left.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import signal
import threading
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psutil

from autograder.measure.burst import Burst
from autograder.measure.load import HOST, Request, Response
from autograder.measure.session import Session
from autograder.run import restart, runner
from autograder.sandbox import proctree

__all__ = ["Burst", "LabApp", "close", "run", "serve", "stop_all"]

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_lock = threading.Lock()
_live: set[LabApp] = set()


def run(coro: Coroutine[Any, Any, T], wait_at_most: float | None = None) -> T:
    """Run ``coro`` on the lab's private loop and wait for its result."""
    global _loop, _thread
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(
                target=_loop_main, args=(_loop,), name="lab-loop", daemon=True
            )
            _thread.start()
    return asyncio.run_coroutine_threadsafe(coro, _loop).result(wait_at_most)


def _loop_main(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_forever()
    finally:  # after close(): let the executor's threads finish, then free the loop
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


class LabApp:
    """A served app and its dependency servers; use through :func:`serve`."""

    def __init__(self, run: runner.Run, cm: Any) -> None:
        self.run = run
        self._cm = cm
        self.session = Session(run)
        self.port = run.app_port
        self.url = f"http://{HOST}:{self.port}"
        assert run.deps is not None
        self.upstream_url = run.deps.upstream_url
        self.smtp_port = run.deps.smtp_port

    def request(
        self, method: str, path: str, json: Any = None, *, wait_at_most: float = 30
    ) -> Response:
        return run(self.session.send(Request(method, path, json), wait_at_most=wait_at_most))

    def burst(
        self,
        method: str,
        path: str | Sequence[str],
        n: int | None = None,
        *,
        json: Any = None,
        probe: str | None = None,
        probe_every: float = 0.02,
        give_up_after: float = 30.0,
        probe_for: float = 0.0,
        every: float = 0.0,
    ) -> Burst:
        """Send ``n`` requests at once (or one per path in ``path``; or one every
        ``every`` seconds, a steady stream instead of a burst), optionally while
        probing ``probe`` open-loop (``"loop"`` for the loop probe, or a path like
        ``"/health"``) until the last answer, or until ``probe_for`` seconds after the
        first request if that is later (to watch what the app does after answering,
        e.g. its background tasks)."""
        paths = [path] * (n or 1) if isinstance(path, str) else list(path)
        requests = [Request(method, p, json) for p in paths]
        return run(
            self.session.measure_burst(
                requests,
                give_up_after=give_up_after,
                probe=probe,
                probe_every=probe_every,
                probe_for=probe_for,
                every=every,
            )
        )

    def send_all(
        self, requests: Sequence[Request], *, probe: str | None = None, give_up_after: float = 30.0
    ) -> Burst:
        """Like :meth:`burst`, for requests that differ in method or body."""
        return run(
            self.session.measure_burst(list(requests), give_up_after=give_up_after, probe=probe)
        )

    def stats(self) -> dict[str, Any]:
        """The dependency servers' records (upstream peak in flight, delivered emails)."""
        return run(self.session.deps_stats())

    def reset_stats(self) -> None:
        run(self.session.reset_deps())

    def inside(self) -> list[dict[str, Any]]:
        """What the harness saw inside the app's process: lag samples, stalls, log records."""
        return self.run.report()

    def lag_samples(self) -> list[tuple[float, float]]:
        return [(r["t"], r["lag"]) for r in self.inside() if r.get("kind") == "lag"]

    def diagnosis(self, since: float = 0.0) -> str | None:
        """The grader's diagnosis: which line of the app held the loop (file:line)."""
        return self.session.diagnosis(since=since)

    def output(self) -> str:
        """The last lines the app printed (its logs included)."""
        return self.run.output_tail()

    def alive(self) -> bool:
        return self.run.app_alive()

    def kill(self, sig: int = signal.SIGKILL, *, wait_at_most: float = 10.0) -> int | None:
        """Send ``sig`` to the app's process (a crash, an OOM kill, a redeploy) and wait
        until it has exited; the dependency servers keep running. Returns its exit code
        (None if it had to be killed after ``wait_at_most``). A restartable app (``serve(...,
        restartable=True)``) is signalled by its supervisor, as the grader does: SIGKILL
        takes its whole process group, and :meth:`start_again` starts it again."""
        process = self.run.app_process
        assert process is not None
        if self.run.restartable:
            code, _ = run(restart.stop_app(self.run, sig, wait_at_most=wait_at_most))
            return code
        if process.returncode is None:
            for p in self.processes():
                proctree.kill_tree(p.pid, sig)  # the harness leads a session: its children too
        return run(asyncio.wait_for(process.wait(), wait_at_most), wait_at_most + 1)

    def start_again(self) -> float:
        """Start the same file again after :meth:`kill` (same port, dependency servers and
        ``JOBS_DIR``); wait until it serves. Returns the seconds it took."""
        return run(restart.start_again(self.run))

    def processes(self) -> list[psutil.Process]:
        """The app's process (and its children) under host pids."""
        return runner.host_app_processes(self.run)

    def workers(self) -> list[int]:
        """The worker processes' pids, as they know themselves (``os.getpid()`` inside the
        sandbox), when served with ``workers`` > 1; empty for a single worker."""
        ready = [e for e in self.run.status if e.get("event") == "ready"]
        return list(ready[-1].get("workers", [])) if ready else []

    def stop(self) -> None:
        if self in _live:
            _live.discard(self)
            run(self._cm.__aexit__(None, None, None))


@contextlib.contextmanager
def serve(
    app_file: str | Path,
    *,
    workers: int = 1,
    ready_within: float = 60.0,
    restartable: bool = False,
    env: dict[str, str] | None = None,
    reachable: Sequence[str | Path] = (),
) -> Iterator[LabApp]:
    """Serve ``app_file`` (a module with ``app``) in its own process, or in ``workers``
    worker processes under uvicorn's own supervisor (``uvicorn --workers N``); stop
    everything on exit.

    ``restartable``: the app gets a ``JOBS_DIR`` that survives :meth:`LabApp.kill` and
    :meth:`LabApp.start_again`; ``env`` adds settings to its environment; ``reachable``:
    folders it must reach (a private server's socket folder)."""
    cm = runner.running(
        Path(app_file),
        workers=workers,
        restartable=restartable,
        env=env,
        reachable=tuple(str(p) for p in reachable),
    )
    served = run(cm.__aenter__(), ready_within)
    app = LabApp(served, cm)
    _live.add(app)
    try:
        yield app
    finally:
        app.stop()


def stop_all() -> None:
    """Stop every app a lab started and has not stopped yet."""
    for app in list(_live):
        app.stop()


def close() -> None:
    """Stop every app, then the lab's private loop and its thread: nothing of the lab is
    left running (a notebook's last cell). A later call to the lab starts a new loop."""
    global _loop, _thread
    stop_all()
    with _lock:
        loop, thread, _loop, _thread = _loop, _thread, None, None
    if loop is not None and thread is not None:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


atexit.register(stop_all)
