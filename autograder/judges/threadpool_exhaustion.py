"""threadpool-exhaustion: a correct ``def`` endpoint capped by the 40-token thread limiter."""

from __future__ import annotations

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import burst_figures
from autograder.measure.load import Request
from autograder.measure.session import Figures, Session
from autograder.servers.process import legacy_body

N = 100
PEAK_MIN = 90
TOTAL_LIMIT = 1.5  # a sanity bound only: on 2 cores time cannot tell one wave from two
GRACE = 0.1  # waited past the limit before the verdict counts as settled


async def measure(s: Session) -> Figures:
    # The loop probe runs for the metrics only: parsing 100 requests alone stalls ~0.1 s.
    return await burst_figures(
        s,
        Request("GET", "/legacy/0"),
        [Request("GET", f"/legacy/{i}") for i in range(1, N + 1)],
        waited=TOTAL_LIMIT + GRACE,
        reset_deps=True,
        upstream_peak=True,
    )


def judge(f: Figures) -> list[Check]:
    peak = f.extra.get("upstream_peak_in_flight", 0)
    return [
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (200, legacy_body(int(r.request.path.rsplit("/", 1)[1]))),
            what="item requests",
        ),
        checks.at_least(
            "upstream-concurrency",
            peak,
            PEAK_MIN,
            message="the upstream saw at most {value} requests in flight at once while 100 "
            "arrived together (at least {minimum} expected: a cap of 40 makes waves)",
        ),
        checks.all_finished_within(
            "finishes", f.requests, TOTAL_LIMIT, waited=f.waited, what="requests"
        ),
    ]


EXERCISE = Exercise(
    id="threadpool-exhaustion",
    title="A legacy lookup that comes back in waves",
    summary="GET /legacy/{item_id} is a def endpoint on a 0.3 s upstream; 100 at once must reach it together, not 40 at a time",
    checks=("responses", "upstream-concurrency", "finishes"),
    measure=measure,
    judge=judge,
)
