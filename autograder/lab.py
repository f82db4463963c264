"""The engine, with a blocking API for notebooks, drills and scripts.

A Jupyter kernel already runs an event loop, so ``asyncio.run`` (and ``uvicorn.run``)
fail in a cell. The lab keeps one private event loop in a daemon thread and runs the
grader's own coroutines there: the same runner (the app in its own process, beside
real dependency servers), the same load client, the same open-loop probes.

    from autograder import lab, plots

    with lab.serve("course/apps/sleepy.py") as app:
        burst = app.burst("GET", "/async-sleep", n=20, probe="/health")
    print(burst.total, burst.max_probe_latency)
    plots.timeline(burst.responses)

Everything a ``serve`` block starts is stopped when the block ends, even when a cell
fails; :func:`stop_all` (also run at exit) stops whatever is left.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import signal
import threading
import time
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

from autograder import load, proctree, runner
from autograder.checks import percentile
from autograder.diagnosis import diagnose
from autograder.load import Request, Response
from autograder.serve import PROBE_PATH

T = TypeVar("T")
HOST = "127.0.0.1"

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


@dataclass
class Burst:
    """What one burst measured, from outside the app."""

    responses: list[Response]
    probes: list[Response] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def answered(self) -> list[Response]:
        return [r for r in self.responses if r.done]

    @property
    def latencies(self) -> list[float]:
        return [r.latency for r in self.answered if r.latency is not None]

    @property
    def total(self) -> float:
        """Seconds from the first request sent to the last answer received."""
        ends = [r.end for r in self.answered if r.end is not None]
        return (max(ends) - self.started) if ends else float("nan")

    @property
    def slowest(self) -> float:
        return max(self.latencies, default=float("nan"))

    @property
    def probe_latencies(self) -> list[float]:
        return load.probe_latencies(
            self.probes, since=self.started, until=self.finished, cut_off=self.finished
        )

    @property
    def max_probe_latency(self) -> float:
        return max(self.probe_latencies, default=float("nan"))

    def probe_p95(self) -> float:
        lat = self.probe_latencies
        return percentile(lat, 95) if lat else float("nan")

    def waves(self, gap: float = 0.1) -> int:
        """Groups of answers separated by more than ``gap`` seconds (a limiter's waves)."""
        ends = sorted(r.end for r in self.answered if r.end is not None)
        return (
            0
            if not ends
            else 1 + sum(1 for a, b in zip(ends, ends[1:], strict=False) if b - a > gap)
        )


class LabApp:
    """A served app and its dependency servers; use through :func:`serve`."""

    def __init__(self, run: runner.Run, cm: Any) -> None:
        self.run = run
        self._cm = cm
        self.port = run.app_port
        self.url = f"http://{HOST}:{self.port}"
        assert run.deps is not None
        self.upstream_url = run.deps.upstream_url
        self.smtp_port = run.deps.smtp_port

    def request(
        self, method: str, path: str, json: Any = None, *, wait_at_most: float = 30
    ) -> Response:
        return run(
            load.send(HOST, self.port, Request(method, path, json), wait_at_most=wait_at_most)
        )

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
    ) -> Burst:
        """Send ``n`` requests at once (or one per path in ``path``), optionally while
        probing ``probe`` open-loop (``"loop"`` for the loop probe, or a path like
        ``"/health"``) until the last answer, or until ``probe_for`` seconds after the
        first request if that is later (to watch what the app does after answering,
        e.g. its background tasks)."""
        paths = [path] * (n or 1) if isinstance(path, str) else list(path)
        requests = [Request(method, p, json) for p in paths]
        return run(self._burst(requests, probe, probe_every, give_up_after, probe_for))

    def send_all(
        self, requests: Sequence[Request], *, probe: str | None = None, give_up_after: float = 30.0
    ) -> Burst:
        """Like :meth:`burst`, for requests that differ in method or body."""
        return run(self._burst(list(requests), probe, 0.02, give_up_after))

    async def _burst(
        self,
        requests: list[Request],
        probe: str | None,
        every: float,
        give_up_after: float,
        probe_for: float = 0.0,
    ) -> Burst:
        prober = None
        if probe:
            prober = load.OpenLoopProbe(
                HOST, self.port, PROBE_PATH if probe == "loop" else probe, interval=every
            )
            prober.start()
        started = time.monotonic()
        responses = await load.burst(HOST, self.port, requests, give_up_after=give_up_after)
        if prober and probe_for > 0:
            await asyncio.sleep(max(started + probe_for - time.monotonic(), 0.0))
        finished = time.monotonic()
        probes = await prober.stop() if prober else []
        return Burst(responses, probes, started, finished)

    def stats(self) -> dict[str, Any]:
        """The dependency servers' records (upstream peak in flight, delivered emails)."""
        return run(self.run.deps.stats())  # type: ignore[union-attr]

    def reset_stats(self) -> None:
        run(self.run.deps.command("reset"))  # type: ignore[union-attr]

    def inside(self) -> list[dict[str, Any]]:
        """What the harness saw inside the app's process: lag samples, stalls, log records."""
        return self.run.report()

    def lag_samples(self) -> list[tuple[float, float]]:
        return [(r["t"], r["lag"]) for r in self.inside() if r.get("kind") == "lag"]

    def diagnosis(self, since: float = 0.0) -> str | None:
        """The grader's diagnosis: which line of the app held the loop (file:line)."""
        return diagnose(self.inside(), str(self.run.app_file), outside_lag=None, since=since)

    def output(self) -> str:
        """The last lines the app printed (its logs included)."""
        return self.run.output_tail()

    def alive(self) -> bool:
        return self.run.app_alive()

    def kill(self, sig: int = signal.SIGKILL, *, wait_at_most: float = 10.0) -> int | None:
        """Send ``sig`` to the app's process (a crash, an OOM kill, a redeploy) and wait
        until it has exited; the dependency servers keep running. Returns its exit code."""
        process = self.run.app_process
        assert process is not None
        if process.returncode is None:
            for p in self.processes():
                proctree.kill_tree(p.pid, sig)  # the harness leads a session: its children too
        return run(asyncio.wait_for(process.wait(), wait_at_most), wait_at_most + 1)

    def processes(self) -> list[psutil.Process]:
        """The app's process (and its children) under host pids."""
        return runner.host_app_processes(self.run)

    def stop(self) -> None:
        if self in _live:
            _live.discard(self)
            run(self._cm.__aexit__(None, None, None))


@contextlib.contextmanager
def serve(app_file: str | Path, *, ready_within: float = 60.0) -> Iterator[LabApp]:
    """Serve ``app_file`` (a module with ``app``) in its own process; stop it on exit."""
    cm = runner.running(Path(app_file))
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
