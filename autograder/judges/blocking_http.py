"""blocking-http: ``GET /weather/{city}`` proxies a slow upstream; the starter uses sync httpx in ``async def``."""

from __future__ import annotations

from typing import Any

from autograder import checks
from autograder.checks import Check
from autograder.depservers import weather_body
from autograder.judges.exercise import Exercise
from autograder.load import Request, Response
from autograder.session import Figures, Session

CITIES = (
    "oslo lima cairo perth quito hanoi dakar sofia minsk tunis "
    "accra baku doha riga rome kyiv bern male apia suva"
).split()
TOTAL_LIMIT = 1.0
PEAK_MIN = 15
LAG_LIMIT = 0.2
GRACE = 0.1  # waited past the limit before the verdict counts as settled


async def measure(s: Session) -> Figures:
    responses, loop = await s.probed_burst(
        Request("GET", "/weather/warmup"),
        [Request("GET", f"/weather/{c}") for c in CITIES],
        give_up_after=TOTAL_LIMIT + GRACE,
        reset_deps=True,
    )
    return s.figures(
        requests=responses,
        waited=TOTAL_LIMIT + GRACE,
        loop=loop,
        extra={"upstream_peak_in_flight": await s.upstream_peak()},
    )


def _expected(r: Response) -> tuple[int, dict[str, Any]]:
    return 200, weather_body(r.request.path.rsplit("/", 1)[1])


def judge(f: Figures) -> list[Check]:
    peak = f.extra.get("upstream_peak_in_flight", 0)
    return [
        checks.all_finished_within(
            "concurrent", f.requests, TOTAL_LIMIT, waited=f.waited, what="requests"
        ),
        checks.bodies_match("responses", f.requests, _expected, what="weather requests"),
        checks.at_least(
            "upstream-concurrency",
            peak,
            PEAK_MIN,
            message="the upstream saw at most {value} requests in flight at once "
            "(at least {minimum} expected when 20 arrive together)",
        ),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
    ]


EXERCISE = Exercise(
    id="blocking-http",
    title="A weather proxy that serves one city at a time",
    summary="GET /weather/{city} calls a 0.3 s upstream; 20 cities at once in under 1 s, upstream sees them together",
    checks=("concurrent", "responses", "upstream-concurrency", "loop-free"),
    measure=measure,
    judge=judge,
)
