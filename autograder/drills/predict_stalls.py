"""Predict drills for two more ways a service stalls: streaming and upstreams that hang.

Same record and scoring as the other predict drills (``PredictDrill``): a snippet from
``snippets/predict/``, a load sent from outside, one figure measured live. The
streaming drills time whole exports; the timeout drills count, at the upstream (outside
the app), the hanging connections still open a second after every caller was answered.
"""

from __future__ import annotations

import time

from autograder.drills.measures import Measurement
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.scoring import Tolerance
from autograder.lab import LabApp
from autograder.slowupstreams import quote_hangs

EXPORTS = 4
QUOTES = 10
WATCH_AFTER = 1.0  # seconds after the last answer before the upstream is asked

SECONDS = Tolerance(absolute=0.15, relative=0.3)
COUNT = Tolerance(absolute=1)


def exports_total(app: LabApp) -> Measurement:
    """``EXPORTS`` exports of ``/export`` at once: the time until the last one ended."""
    app.request("GET", "/export")  # warm-up: first-call costs
    b = app.burst("GET", "/export", EXPORTS, probe="loop")
    return Measurement(
        b.total,
        b,
        {
            "answered": f"{len(b.answered)} of {len(b.responses)}",
            "slowest export": f"{b.slowest:.2f} s",
            "worst loop-probe latency": f"{b.max_probe_latency * 1000:.0f} ms",
        },
    )


def hanging_left_open(app: LabApp) -> Measurement:
    """``QUOTES`` quotes that hang upstream, at once; then, ``WATCH_AFTER`` seconds after
    the last answer, how many of their connections the upstream still holds open."""
    secret = app.stats()["slow"]["secret"]
    symbols = [s for s in (f"H{i}" for i in range(1000)) if quote_hangs(secret, s)][:QUOTES]
    app.reset_stats()
    b = app.burst("GET", [f"/quote/{s}" for s in symbols], give_up_after=5.0)
    time.sleep(WATCH_AFTER)
    hangs = app.stats()["slow"]["quotes"]["hangs"]
    still_open = sum(1 for h in hangs if h["closed"] is None)
    statuses = sorted({str(r.status) for r in b.answered})
    return Measurement(
        float(still_open),
        b,
        {
            "answered": f"{len(b.answered)} of {len(b.responses)} (status {', '.join(statuses) or '-'})",
            "slowest answer": f"{b.slowest:.2f} s",
            "hanging connections the upstream saw": str(len(hangs)),
        },
    )


DRILLS: list[PredictDrill] = [
    PredictDrill(
        id="predict-stream-blocking-generator",
        title="time.sleep in an async generator behind StreamingResponse",
        topic="streaming",
        snippet="stream_sleep_in_async_gen.py",
        load=f"{EXPORTS} requests at once at GET /export (10 lines, 50 ms each)",
        question="the total time until the last export ends, in seconds",
        unit="s",
        reference=lambda: EXPORTS * 10 * 0.05,
        tolerance=SECONDS,
        measure=exports_total,
        explanation="An async generator runs on the event loop, between the awaits of the "
        "response that iterates it, so each time.sleep holds the loop: the 4 x 10 waits of 50 ms "
        "run one after another (2 s), and no other request is served meanwhile.",
    ),
    PredictDrill(
        id="predict-stream-sync-generator",
        title="time.sleep in a plain generator behind StreamingResponse",
        topic="streaming",
        snippet="stream_sync_gen.py",
        load=f"{EXPORTS} requests at once at GET /export (10 lines, 50 ms each)",
        question="the total time until the last export ends, in seconds",
        unit="s",
        reference=lambda: 10 * 0.05,
        tolerance=SECONDS,
        measure=exports_total,
        explanation="StreamingResponse runs a sync generator's next() in the thread pool "
        "(iterate_in_threadpool), one thread hop per line, so the 4 exports wait side by side: "
        "0.5 s. Each export holds one of the 40 thread tokens while it waits for a line.",
    ),
    PredictDrill(
        id="predict-timeout-around-thread",
        title="asyncio.wait_for around asyncio.to_thread, upstream never answers",
        topic="timeouts and cancellation",
        snippet="timeout_around_thread.py",
        load=f"{QUOTES} quotes at once for symbols the upstream never answers",
        question=f"how many of their connections the upstream still sees open "
        f"{WATCH_AFTER:.0f} s after every caller got its 504",
        unit="open",
        reference=lambda: float(QUOTES),
        tolerance=COUNT,
        measure=hanging_left_open,
        explanation="wait_for cancels the await, not the thread: nothing can stop a thread "
        "blocked in recv(), so each worker keeps waiting on its socket with the connection "
        "open, long after the 504 went out.",
    ),
    PredictDrill(
        id="predict-timeout-awaited",
        title="asyncio.timeout around an awaited httpx call, upstream never answers",
        topic="timeouts and cancellation",
        snippet="timeout_awaited.py",
        load=f"{QUOTES} quotes at once for symbols the upstream never answers",
        question=f"how many of their connections the upstream still sees open "
        f"{WATCH_AFTER:.0f} s after every caller got its 504",
        unit="open",
        reference=lambda: 0.0,
        tolerance=COUNT,
        measure=hanging_left_open,
        explanation="Cancelling an awaited call raises CancelledError at its await: the "
        "request unwinds like any exception and httpx closes the connection it was waiting on.",
    ),
]
