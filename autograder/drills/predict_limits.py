"""Predict drills for two more ways a service stalls: fanning out without a limit or
cancellation, and a slow sync SDK starving the thread pool that ``/health`` needs.

Data only, like :mod:`autograder.drills.predict`. The fan-out drills read their figure
at the rate-limited upstream (``limited_upstream``, through
:mod:`autograder.drills.measures_upstream`: outside the app): the calls it refused with
429, and the calls it still answered after a sibling failed.
"""

from __future__ import annotations

from autograder.drills.measures import health_under
from autograder.drills.measures_upstream import refused_calls, siblings_left_running
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.scoring import Tolerance
from autograder.servers.limited import FAILING_PART, OUTAGE_PREFIX, PART_LIMIT

DASHBOARDS = 10
SECONDS = Tolerance(absolute=0.15, relative=0.3)


DRILLS: list[PredictDrill] = [
    PredictDrill(
        id="predict-fanout-429",
        title="fanning out with asyncio.gather and no limit",
        topic="fan-out and rate limits",
        snippet="fanout_gather.py",
        load=f"{DASHBOARDS} requests at once at GET /dashboard/{{user}}; each gathers 5 calls "
        f"to an upstream that accepts {PART_LIMIT} in flight and answers 429 beyond",
        question="how many calls the upstream refuses with 429",
        unit="calls",
        reference=lambda: 40.0,
        tolerance=Tolerance(absolute=3),
        measure=refused_calls(DASHBOARDS),
        explanation="gather starts all five calls of every dashboard at once: 50 arrive "
        "together and only the first 10 fit. A limit per request does not help; one "
        "semaphore (or a connection pool of 10) for the whole service does.",
    ),
    PredictDrill(
        id="predict-gather-siblings",
        title="asyncio.gather when one call fails",
        topic="fan-out and cancellation",
        snippet="fanout_gather.py",
        load=f"one GET /dashboard/{OUTAGE_PREFIX}1: its {FAILING_PART} call fails with 503 "
        "after 0.05 s, the four others take 0.2 s",
        question="how many of the four sibling calls the upstream still answers after the failure",
        unit="calls",
        reference=lambda: 4.0,
        tolerance=Tolerance(absolute=0.5),
        measure=siblings_left_running,
        explanation="gather raises the first exception at once, so the dashboard answers "
        "500 quickly, but it does not cancel the other awaitables: they run to their end. "
        "asyncio.TaskGroup cancels them (httpx then closes their connections).",
    ),
    PredictDrill(
        id="predict-starved-health",
        title="a slow sync SDK in def endpoints, next to a def /health",
        topic="thread-pool starvation",
        snippet="starved_health.py",
        load="100 requests at once at GET /reports/{id} (a 0.3 s sync SDK call each) while "
        "GET /health is probed every 20 ms",
        question="the 95th percentile of /health's latency, in seconds",
        unit="s",
        reference=lambda: 0.6,
        tolerance=SECONDS,
        measure=health_under("GET", "/reports/1", 100, "p95"),
        explanation="/health is a def endpoint too: it needs one of the same 40 tokens, and "
        "waits in line behind the 60 queued reports (first in, first out) for up to two "
        "waves of 0.3 s. A limiter of the SDK's own keeps the 40 for everything else.",
    ),
]
