"""Predict, then measure: a snippet, a load, a figure to guess, and the live measurement.

Each drill serves one snippet from ``snippets/predict/`` with :func:`autograder.lab.serve`
(the grader's runner: its own process, beside the dependency servers), sends the load
from outside and reads one figure: total time, the slowest request, the upstream's peak
in flight, a ``/health`` percentile, or the lines background tasks wrote. The learner's
prediction is scored against that measurement, never against an answer key; the
reference answer is only what an expert would say, and the tests check that it lands
within the drill's own tolerance of a live run.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from autograder import lab
from autograder.drills.scoring import Score, Tolerance, Value, format_value, judge, parse_value
from autograder.lab import Burst, LabApp

SNIPPETS = Path(__file__).resolve().parent / "snippets" / "predict"


@dataclass
class Measurement:
    """What the drill measured: the figure to score, and what to show beside it."""

    value: Value
    burst: Burst | None = None
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PredictDrill:
    id: str
    title: str
    topic: str
    snippet: str  # file name in snippets/predict/
    load: str  # the load, in words
    question: str  # the figure to predict, in words
    unit: str  # "s", "in flight", "cores", or "" for a list of words
    reference: Callable[[], Value]  # what an expert predicts (may depend on os.cpu_count())
    tolerance: Tolerance | None  # None: words, compared exactly
    measure: Callable[[LabApp], Measurement]
    explanation: str  # two sentences: why the figure is what it is
    kind: str = "predict"

    @property
    def path(self) -> Path:
        return SNIPPETS / self.snippet

    def source(self) -> str:
        return self.path.read_text()

    def prompt(self) -> str:
        how = (
            "type the words in order, separated by spaces (or 'none')"
            if self.tolerance is None
            else f"scored within {self.tolerance.describe(self.unit)} of the measurement"
        )
        return f"Load: {self.load}\nPredict: {self.question} ({how})"

    def reference_text(self) -> str:
        return format_value(self.reference(), self.unit)

    def parse(self, text: str) -> Value:
        return parse_value(text, words=self.tolerance is None)

    def run(self) -> Measurement:
        """Serve the snippet, send the load, measure (about 1-3 s)."""
        with lab.serve(self.path) as app:
            return self.measure(app)

    def score(self, predicted: Value, measured: Measurement) -> Score:
        return score(self, predicted, measured.value)


def score(drill: PredictDrill, predicted: Value, measured: Value) -> Score:
    """Score a prediction against the live measurement, within the drill's tolerance."""
    return judge(predicted, measured, tolerance=drill.tolerance, unit=drill.unit)


# -- measurements -------------------------------------------------------------------------


def _ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def _burst(app: LabApp, method: str, path: str | list[str], n: int | None, probe: str) -> Burst:
    app.request(method, path if isinstance(path, str) else path[0])  # warm-up: first-call costs
    app.reset_stats()
    return app.burst(method, path, n, probe=probe)


def _timing_notes(b: Burst) -> dict[str, str]:
    lat = b.latencies
    notes = {
        "answered": f"{len(b.answered)} of {len(b.responses)}",
        "total time": f"{b.total:.2f} s",
        "fastest / slowest request": f"{min(lat, default=math.nan):.2f} s / {b.slowest:.2f} s",
        "waves of answers": str(b.waves()),
    }
    if b.probes:
        notes["probe p95 / worst"] = f"{_ms(b.probe_p95())} / {_ms(b.max_probe_latency)}"
    return notes


def total_time(
    method: str, path: str, n: int, probe: str = "loop"
) -> Callable[[LabApp], Measurement]:
    def measure(app: LabApp) -> Measurement:
        b = _burst(app, method, path, n, probe)
        return Measurement(b.total, b, _timing_notes(b))

    return measure


def slowest_request(method: str, path: str, n: int) -> Callable[[LabApp], Measurement]:
    def measure(app: LabApp) -> Measurement:
        b = _burst(app, method, path, n, "loop")
        return Measurement(b.slowest, b, _timing_notes(b))

    return measure


def upstream_peak(n: int, figure: str = "peak") -> Callable[[LabApp], Measurement]:
    """``n`` requests at ``/items/1..n``; the upstream's peak in flight (or the total time)."""

    def measure(app: LabApp) -> Measurement:
        b = _burst(app, "GET", [f"/items/{i}" for i in range(1, n + 1)], None, "loop")
        peak = app.stats()["upstream"]["peak"]
        notes = {"upstream peak in flight": str(peak), **_timing_notes(b)}
        return Measurement(float(peak) if figure == "peak" else b.total, b, notes)

    return measure


def weather_peak(n: int) -> Callable[[LabApp], Measurement]:
    def measure(app: LabApp) -> Measurement:
        b = _burst(app, "GET", [f"/weather/city{i}" for i in range(n)], None, "loop")
        peak = app.stats()["upstream"]["peak"]
        return Measurement(
            float(peak), b, {"upstream peak in flight": str(peak), **_timing_notes(b)}
        )

    return measure


def health_under(method: str, path: str, n: int, figure: str) -> Callable[[LabApp], Measurement]:
    """``n`` requests at once while ``/health`` is probed every 20 ms; ``figure`` is
    ``p95`` or ``worst`` (of /health) or ``total`` (of the burst)."""

    def measure(app: LabApp) -> Measurement:
        app.request("GET", "/health")
        b = app.burst(method, path, n, probe="/health")
        value = {"p95": b.probe_p95(), "worst": b.max_probe_latency, "total": b.total}[figure]
        notes = {
            "/health p95 / worst": f"{_ms(b.probe_p95())} / {_ms(b.max_probe_latency)}",
            "/health probes": str(len(b.probe_latencies)),
            **_timing_notes(b),
        }
        return Measurement(value, b, notes)

    return measure


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def cores_busy(method: str, path: str, n: int) -> Callable[[LabApp], Measurement]:
    """``n`` requests at once; the app process's CPU seconds (read from the OS, outside the
    app) divided by the wall time of the burst: how many cores it kept busy on average."""

    def measure(app: LabApp) -> Measurement:
        app.request("GET", "/health")
        procs = app.processes()
        before = _cpu_seconds(procs)
        b = app.burst(method, path, n, probe="/health")
        cpu = _cpu_seconds(procs) - before
        wall = b.finished - b.started
        notes = {
            "CPU seconds used by the app": f"{cpu:.2f} s in {wall:.2f} s of wall time",
            "/health p95 / worst": f"{_ms(b.probe_p95())} / {_ms(b.max_probe_latency)}",
            **_timing_notes(b),
        }
        busy = cpu / wall if procs and wall > 0 else math.nan
        return Measurement(busy, b, notes)

    return measure


def _audit(app: LabApp) -> list[str]:
    try:
        return app.run.audit_log.read_text().splitlines()
    except OSError:
        return []


def _errors_logged(app: LabApp) -> list[str]:
    return [
        r["message"] for r in app.inside() if r.get("kind") == "log" and r.get("levelno", 0) >= 40
    ]


def _poll(done: Callable[[], bool], within: float) -> bool:
    """Poll a condition the app's own output will make true (files, log records)."""
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def task_lines(path: str, *, expected_lines: int) -> Callable[[LabApp], Measurement]:
    """One POST; then the lines its background tasks wrote to AUDIT_LOG, in order.

    Reading stops when ``expected_lines`` are there or when the app logged an error (an
    exception escaping the tasks ends the request: nothing of it runs after that).
    """

    def measure(app: LabApp) -> Measurement:
        r = app.request("POST", path)
        _poll(lambda: len(_audit(app)) >= expected_lines or bool(_errors_logged(app)), 5.0)
        lines = tuple(_audit(app))
        errors = _errors_logged(app)
        after = app.request("POST", path)  # is the service still answering?
        notes = {
            "response": f"{r.status} after {_ms(r.latency or math.nan)} (before any task ran)",
            "AUDIT_LOG": " / ".join(lines) or "(empty)",
            "errors logged": "; ".join(e.splitlines()[0] for e in errors) or "none",
            "next request": f"{after.status}",
        }
        return Measurement(lines, None, notes)

    return measure


def _cores() -> int:
    return os.cpu_count() or 1


WORK_S = 0.25  # snippets/predict/cpucost.py sizes each CPU job to this


# -- the drills ---------------------------------------------------------------------------


def _d(**kw: object) -> PredictDrill:
    return PredictDrill(**kw)  # type: ignore[arg-type]


SECONDS = Tolerance(absolute=0.15, relative=0.3)
# CPU time on a shared 2-core VM drifts more than a sleep does.
CPU_SECONDS = Tolerance(absolute=0.15, relative=0.4)

DRILLS: list[PredictDrill] = [
    _d(
        id="predict-async-sleep",
        title="await asyncio.sleep in async def",
        topic="the event loop",
        snippet="async_sleep.py",
        load="20 requests at once at GET /work",
        question="the total time until the last answer, in seconds",
        unit="s",
        reference=lambda: 0.3,
        tolerance=SECONDS,
        measure=total_time("GET", "/work", 20),
        explanation="Every request suspends at its await and the loop serves the others "
        "meanwhile, so 20 waits of 0.3 s overlap. The total is one wait plus a few ms of parsing.",
    ),
    _d(
        id="predict-sleep-in-async",
        title="time.sleep in async def",
        topic="the event loop",
        snippet="sleep_in_async.py",
        load="10 requests at once at GET /work",
        question="the total time until the last answer, in seconds",
        unit="s",
        reference=lambda: 2.0,
        tolerance=SECONDS,
        measure=total_time("GET", "/work", 10),
        explanation="time.sleep holds the only thread that runs the event loop, so the 10 "
        "requests run one after another: 10 x 0.2 s. Nothing else (not even /health) is served meanwhile.",
    ),
    _d(
        id="predict-def-sleep",
        title="time.sleep in a plain def endpoint",
        topic="def vs async def",
        snippet="def_sleep.py",
        load="20 requests at once at GET /work",
        question="the total time until the last answer, in seconds",
        unit="s",
        reference=lambda: 0.3,
        tolerance=SECONDS,
        measure=total_time("GET", "/work", 20),
        explanation="FastAPI runs a def endpoint in a worker thread (Starlette's "
        "run_in_threadpool, up to 40 at once), so the 20 sleeps overlap. The loop stays free.",
    ),
    _d(
        id="predict-def-limiter",
        title="100 requests at a def endpoint: the 40-token limiter",
        topic="thread-pool exhaustion",
        snippet="def_upstream.py",
        load="100 requests at once at GET /items/{id}, each calling a 0.3 s upstream",
        question="the peak number of requests in flight at the upstream",
        unit="in flight",
        reference=lambda: 40.0,
        tolerance=Tolerance(absolute=2),
        measure=upstream_peak(100),
        explanation="def endpoints share AnyIO's default CapacityLimiter of 40 tokens, so "
        "only 40 upstream calls are ever in flight and the rest queue. That is not "
        "asyncio's default executor (min(32, cpus + 4)): a different pool.",
    ),
    _d(
        id="predict-def-limiter-total",
        title="100 requests at a def endpoint: how long in all",
        topic="thread-pool exhaustion",
        snippet="def_upstream.py",
        load="100 requests at once at GET /items/{id}, each calling a 0.3 s upstream",
        question="the total time until the last answer, in seconds",
        unit="s",
        reference=lambda: 0.9,
        tolerance=SECONDS,
        measure=upstream_peak(100, figure="total"),
        explanation="40 tokens make waves of 40, 40 and 20 upstream calls: three times 0.3 s. "
        "An async client (or a larger limiter) would answer all 100 in one wave.",
    ),
    _d(
        id="predict-sync-http-in-async",
        title="a synchronous HTTP call in async def",
        topic="blocking I/O",
        snippet="sync_http_in_async.py",
        load="5 requests at once at GET /weather/{city}, each calling a 0.3 s upstream",
        question="the peak number of requests in flight at the upstream",
        unit="in flight",
        reference=lambda: 1.0,
        tolerance=Tolerance(absolute=0.5),
        measure=weather_peak(5),
        explanation="httpx.get blocks the loop thread until its answer arrives, so the next "
        "request is not even read before the previous call ends: the upstream sees one at a "
        "time. httpx.AsyncClient (awaited) would put all 5 in flight.",
    ),
    _d(
        id="predict-to-thread-default",
        title="asyncio.to_thread on a stock default executor",
        topic="thread pools",
        snippet="to_thread_default.py",
        load="20 requests at once at GET /items/{id}; each calls a 0.3 s upstream in asyncio.to_thread",
        question="the peak number of requests in flight at the upstream (this machine has "
        f"{_cores()} CPUs)",
        unit="in flight",
        reference=lambda: float(min(32, _cores() + 4)),
        tolerance=Tolerance(absolute=1),
        measure=upstream_peak(20),
        explanation="asyncio.to_thread uses the loop's default executor, a ThreadPoolExecutor "
        "of min(32, os.cpu_count() + 4) workers when nobody sets one. It is not AnyIO's "
        "40-token limiter, which only def endpoints and dependencies go through.",
    ),
    _d(
        id="predict-async-dep-blocks",
        title="an async dependency that blocks",
        topic="dependencies",
        snippet="async_dep_blocks.py",
        load="10 requests at once at GET /users/{id}",
        question="the total time until the last answer, in seconds",
        unit="s",
        reference=lambda: 2.0,
        tolerance=SECONDS,
        measure=total_time("GET", "/users/1", 10),
        explanation="An async def dependency runs on the event loop like an async endpoint, "
        "so its time.sleep serialises every request: 10 x 0.2 s. The endpoint being async changes nothing.",
    ),
    _d(
        id="predict-sync-dep",
        title="a def dependency of an async endpoint",
        topic="dependencies",
        snippet="sync_dep.py",
        load="10 requests at once at GET /users/{id}",
        question="the total time until the last answer, in seconds",
        unit="s",
        reference=lambda: 0.2,
        tolerance=SECONDS,
        measure=total_time("GET", "/users/1", 10),
        explanation="FastAPI runs a def dependency in the thread pool even when the endpoint "
        "is async, so the 10 connects overlap. Only blocking code written inside async def runs on the loop.",
    ),
    _d(
        id="predict-bg-order",
        title="the order of background tasks",
        topic="background tasks",
        snippet="bg_order.py",
        load="one POST /checkout registering slow_receipt (def, 0.3 s), quick_metrics "
        "(async), cleanup (def)",
        question="the lines in AUDIT_LOG, in the order they were written (receipt, metrics, cleanup)",
        unit="",
        reference=lambda: ("receipt", "metrics", "cleanup"),
        tolerance=None,
        measure=task_lines("/checkout", expected_lines=3),
        explanation="Background tasks run after the response, one after another in "
        "registration order, each awaited before the next starts. A def task runs in the "
        "thread pool and an async task on the loop, but neither overtakes the other.",
    ),
    _d(
        id="predict-bg-exception",
        title="a background task that raises",
        topic="background tasks",
        snippet="bg_exception.py",
        load="one POST /signup registering first, second (raises), third",
        question="the lines in AUDIT_LOG once the request is over (first, third, or none)",
        unit="",
        reference=lambda: ("first",),
        tolerance=None,
        measure=task_lines("/signup", expected_lines=2),
        explanation="The tasks run in one loop over the list, so the exception escapes it and "
        "'third' never runs; the client already had its 200, and the error only reaches the "
        "server log. Catch and log inside each task that may fail.",
    ),
    _d(
        id="predict-cpu-in-async",
        title="CPU work inside async def",
        topic="CPU-bound work",
        snippet="cpu_in_async.py",
        load=f"4 POST /hash at once (pbkdf2, {WORK_S} s of CPU each), /health probed every 20 ms",
        question="the 95th percentile latency of /health while the hashes run, in seconds",
        unit="s",
        reference=lambda: 4 * WORK_S,
        tolerance=CPU_SECONDS,
        measure=health_under("POST", "/hash", 4, "p95"),
        explanation="The four hashes run back to back on the loop thread, so a probe sent at "
        "the start waits for all of them: about 4 x 0.25 s. A p95 near the whole CPU time "
        "means the loop was never free.",
    ),
    _d(
        id="predict-cpu-to-thread-health",
        title="pbkdf2 in asyncio.to_thread: /health",
        topic="CPU-bound work",
        snippet="cpu_to_thread.py",
        load=f"4 POST /hash at once (pbkdf2 in asyncio.to_thread, {WORK_S} s of CPU each), "
        "/health probed every 20 ms",
        question="the 95th percentile latency of /health while the hashes run, in seconds",
        unit="s",
        reference=lambda: 0.01,
        tolerance=Tolerance(absolute=0.05),
        measure=health_under("POST", "/hash", 4, "p95"),
        explanation="hashlib.pbkdf2_hmac releases the GIL while it hashes, so the loop thread "
        "keeps running Python and answers /health in milliseconds. That is true of C code "
        "that releases the GIL, not of threads in general.",
    ),
    _d(
        id="predict-cpu-to-thread-cores",
        title="pbkdf2 in asyncio.to_thread: cores used",
        topic="CPU-bound work",
        snippet="cpu_to_thread.py",
        load=f"4 POST /hash at once (pbkdf2 in asyncio.to_thread, {WORK_S} s of CPU each) on "
        f"{_cores()} CPUs",
        question="how many CPU cores the app's process keeps busy on average while they run "
        "(its CPU seconds, read from the OS, over the wall time)",
        unit="cores",
        reference=lambda: float(min(_cores(), 4)),
        tolerance=Tolerance(absolute=0.5),
        measure=cores_busy("POST", "/hash", 4),
        explanation="With the GIL released, the four hashes run in parallel on every core "
        "there is, so the process uses all of them. More threads than cores would not make "
        "CPU work any faster.",
    ),
    _d(
        id="predict-cpu-python-thread",
        title="pure-Python CPU work in asyncio.to_thread: cores used",
        topic="CPU-bound work",
        snippet="cpu_python_thread.py",
        load=f"4 POST /crunch at once (a pure-Python loop in asyncio.to_thread, {WORK_S} s of "
        f"CPU each) on {_cores()} CPUs",
        question="how many CPU cores the app's process keeps busy on average while they run "
        "(its CPU seconds, read from the OS, over the wall time)",
        unit="cores",
        reference=lambda: 1.0,
        tolerance=Tolerance(absolute=0.5),
        measure=cores_busy("POST", "/crunch", 4),
        explanation="Pure-Python bytecode holds the GIL, so the four threads take turns and "
        "the process never uses more than one core, however many there are. Only a process "
        "pool runs them in parallel (and frees the loop).",
    ),
    _d(
        id="predict-lock",
        title="a lock held across an await",
        topic="locks",
        snippet="lock_serialises.py",
        load="10 requests at once at GET /profile",
        question="how long the slowest request takes, in seconds",
        unit="s",
        reference=lambda: 1.0,
        tolerance=SECONDS,
        measure=slowest_request("GET", "/profile", 10),
        explanation="The loop is free (the refresh awaits), but asyncio.Lock lets one request "
        "in at a time, so the tenth waits for nine refreshes before its own: 10 x 0.1 s. "
        "Hold a lock only around the state it protects, not around I/O.",
    ),
    _d(
        id="predict-file-write",
        title="blocking file writes in async def",
        topic="blocking I/O",
        snippet="file_write.py",
        load="10 POST /upload at once (each write takes 0.1 s on the share), /health probed every 20 ms",
        question="the worst /health latency while the uploads are written, in seconds",
        unit="s",
        reference=lambda: 1.0,
        tolerance=SECONDS,
        measure=health_under("POST", "/upload", 10, "worst"),
        explanation="open(), write() and fsync() are blocking calls (asyncio has no async file "
        "API), so 10 writes hold the loop for 10 x 0.1 s and a /health probe sent at the start "
        "waits for all of them. asyncio.to_thread (or a def endpoint) moves them off the loop.",
    ),
]
