"""Predict drills for two more ways a service stalls: fanning out without a limit or
cancellation, and a slow sync SDK starving the thread pool that ``/health`` needs.

Same record and scoring as the other predict drills (``PredictDrill``). The fan-out drills
read their figure at the rate-limited upstream (``limited_upstream``: outside the app):
the calls it refused with 429, and the calls it still answered after a sibling failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from autograder.drills.measures import Measurement, health_under
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.scoring import Tolerance
from autograder.lab import Burst, LabApp
from autograder.limited_upstream import FAILING_PART, OUTAGE_PREFIX, PART_LIMIT

DASHBOARDS = 10
SECONDS = Tolerance(absolute=0.15, relative=0.3)


def _parts(app: LabApp) -> dict[str, Any]:
    return dict(app.stats()["limited"]["parts"])


def _notes(b: Burst) -> dict[str, str]:
    statuses = sorted({r.status for r in b.answered if r.status is not None})
    return {
        "answered": f"{len(b.answered)} of {len(b.responses)}",
        "total time": f"{b.total:.2f} s",
        "statuses": ", ".join(map(str, statuses)) or "none",
    }


def _wait_for(done: Callable[[], bool], within: float) -> None:
    """Poll the upstream's records (a condition the upstream itself makes true)."""
    deadline = time.monotonic() + within
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)


def _quiet(app: LabApp) -> None:
    """Wait until no call is in flight at the parts API: gather leaves calls running after
    a dashboard has answered, and they must not count against the next measurement."""
    _wait_for(lambda: _parts(app)["in_flight"] == 0, 2.0)


def refused_calls(app: LabApp) -> Any:
    """``DASHBOARDS`` dashboards at once; the calls the parts API refused with 429."""
    _quiet(app)
    app.request("GET", "/dashboard/warmup")
    app.reset_stats()
    b = app.burst("GET", [f"/dashboard/user{i}" for i in range(DASHBOARDS)], probe="loop")
    parts = _parts(app)
    notes = {
        "calls refused with 429": str(parts["refused"]),
        "upstream peak in flight": str(parts["peak"]),
        **_notes(b),
    }
    return Measurement(float(parts["refused"]), b, notes)


def siblings_left_running(app: LabApp) -> Any:
    """One dashboard whose ``recommendations`` call fails; how many sibling calls the
    upstream still answered after that failure (instead of seeing them closed)."""
    _quiet(app)
    app.request("GET", "/dashboard/warmup")
    app.reset_stats()
    user = f"{OUTAGE_PREFIX}1"
    b = app.burst("GET", f"/dashboard/{user}", 1)

    def mine() -> list[dict[str, Any]]:
        return [c for c in _parts(app)["calls"] if c["user"] == user]

    # each sibling ends at the upstream (answered, or closed by the app) by 0.2 s
    _wait_for(lambda: bool(mine()) and all("end" in c for c in mine()), 2.0)
    calls = mine()
    failed_at = min((c["end"] for c in calls if c.get("outcome") == "failed"), default=0.0)
    left = [c for c in calls if c.get("outcome") == "answered" and c["end"] > failed_at]
    notes = {
        "calls at the upstream": ", ".join(f"{c['part']}: {c.get('outcome')}" for c in calls),
        **_notes(b),
    }
    return Measurement(float(len(left)), b, notes)


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
        measure=refused_calls,
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
