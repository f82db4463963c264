"""blocking-sleep: ``GET /report`` waits 0.3 s; the starter waits with ``time.sleep`` in ``async def``."""

from __future__ import annotations

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import burst_figures
from autograder.measure.load import Request
from autograder.measure.session import Figures, Session

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
    # The warm-up, sent alone, shows what the endpoint itself takes: a fire-and-forget wait
    # answers at once and only looks slow in the burst while earlier waits hold the loop.
    return [
        checks.judged_only_if_the_work_is_done(
            checks.all_finished_within(
                "concurrent", f.requests, TOTAL_LIMIT, waited=f.waited, what="requests"
            ),
            f.alone, MIN_LATENCY, work="wait", by="still-waits",
        ),
        checks.bodies_match(
            "responses", f.requests, lambda r: (200, {"status": "ok"}), what="requests"
        ),
        checks.work_took_its_time(
            "still-waits", f.requests, MIN_LATENCY, alone=f.alone, work="wait"
        ),
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
