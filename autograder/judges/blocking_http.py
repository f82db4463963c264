"""blocking-http: ``GET /weather/{city}`` proxies a slow upstream; the starter uses sync httpx in ``async def``."""

from __future__ import annotations

from typing import Any

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import burst_figures
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session
from autograder.servers.process import weather_body

CITIES = (
    "oslo lima cairo perth quito hanoi dakar sofia minsk tunis "
    "accra baku doha riga rome kyiv bern male apia suva"
).split()
TOTAL_LIMIT = 1.0
PEAK_MIN = 15
LAG_LIMIT = 0.2
GRACE = 0.1  # waited past the limit before the verdict counts as settled


async def measure(s: Session) -> Figures:
    return await burst_figures(
        s,
        Request("GET", "/weather/warmup"),
        [Request("GET", f"/weather/{c}") for c in CITIES],
        waited=TOTAL_LIMIT + GRACE,
        reset_deps=True,
        upstream_peak=True,
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
            f"(at least {{minimum}} expected when {len(CITIES)} arrive together)",
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
