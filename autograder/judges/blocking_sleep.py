"""blocking-sleep: ``GET /report`` waits 0.3 s; the starter waits with ``time.sleep`` in ``async def``."""

from __future__ import annotations

from autograder import checks
from autograder.checks import Check
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import burst_figures
from autograder.load import Request
from autograder.session import Figures, Session

N = 20
TOTAL_LIMIT = 1.0
MIN_LATENCY = 0.25
LAG_LIMIT = 0.2
GRACE = 0.1  # waited past the limit before the verdict counts as settled


async def measure(s: Session) -> Figures:
    return await burst_figures(
        s, Request("GET", "/report"), [Request("GET", "/report")] * N, waited=TOTAL_LIMIT + GRACE
    )


def judge(f: Figures) -> list[Check]:
    return [
        checks.all_finished_within(
            "concurrent", f.requests, TOTAL_LIMIT, waited=f.waited, what="requests"
        ),
        checks.bodies_match(
            "responses", f.requests, lambda r: (200, {"status": "ok"}), what="requests"
        ),
        checks.each_took_at_least("still-waits", f.requests, MIN_LATENCY),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
    ]


EXERCISE = Exercise(
    id="blocking-sleep",
    title="A report endpoint that freezes the whole service",
    summary="GET /report waits 0.3 s; 20 at once must finish in under 1 s without blocking the loop",
    checks=("concurrent", "responses", "still-waits", "loop-free"),
    measure=measure,
    judge=judge,
)
