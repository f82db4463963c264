"""Predict drills for two more ways a service stalls: streaming and upstreams that hang.

Data only, like :mod:`autograder.drills.predict`: a snippet from ``snippets/predict/``,
a load sent from outside, one figure measured live (:mod:`autograder.drills.measures`,
:mod:`autograder.drills.measures_upstream`). The streaming drills time whole exports;
the timeout drills count, at the upstream (outside the app), the hanging connections
still open a second after every caller was answered.
"""

from __future__ import annotations

from autograder.drills.measures import total_time
from autograder.drills.measures_upstream import hanging_left_open
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.scoring import Tolerance

EXPORTS = 4
QUOTES = 10
WATCH_AFTER = 1.0  # seconds after the last answer before the upstream is asked

SECONDS = Tolerance(absolute=0.15, relative=0.3)
COUNT = Tolerance(absolute=1)


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
        measure=total_time("GET", "/export", EXPORTS),
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
        measure=total_time("GET", "/export", EXPORTS),
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
        measure=hanging_left_open(QUOTES, WATCH_AFTER),
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
        measure=hanging_left_open(QUOTES, WATCH_AFTER),
        explanation="Cancelling an awaited call raises CancelledError at its await: the "
        "request unwinds like any exception and httpx closes the connection it was waiting on.",
    ),
]
