"""The predict drills: what each serves, what load it sends, what to guess, and why.

Data only: the record is :class:`autograder.drills.predict_drill.PredictDrill`, the
figures come from :mod:`autograder.drills.measures`, the scoring from
:mod:`autograder.drills.scoring`. Each reference answer is what an expert would say;
the slow tests check it lands within the drill's own tolerance of a live run.
"""

from __future__ import annotations

import os

from autograder.drills.measures import (
    cores_busy,
    health_under,
    slowest_request,
    task_lines,
    total_time,
    upstream_peak,
    weather_peak,
)
from autograder.drills.predict_drill import SNIPPETS, PredictDrill, score
from autograder.drills.scoring import Tolerance


def _cores() -> int:
    return os.cpu_count() or 1


WORK_S = 0.25  # snippets/predict/cpucost.py sizes each CPU job to this


# -- the drills ---------------------------------------------------------------------------


SECONDS = Tolerance(absolute=0.15, relative=0.3)
# CPU time on a shared 2-core VM drifts more than a sleep does.
CPU_SECONDS = Tolerance(absolute=0.15, relative=0.4)

DRILLS: list[PredictDrill] = [
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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
    PredictDrill(
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


__all__ = ["DRILLS", "SNIPPETS", "PredictDrill", "score"]
