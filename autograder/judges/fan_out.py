"""fan-out: ``GET /dashboard/{user}`` needs five upstream calls; the starter awaits them one by one.

The upstream (``limited_upstream``) allows 10 calls in flight from the service and answers
429 beyond; a user named ``outage-...`` has a part that fails fast. Four phases, all
measured at the client or at the upstream: one dashboard alone (its latency), a burst of
10 dashboards (50 calls: the upstream's peak and 429s, the burst's time), then a failing
dashboard beside a healthy one (what the upstream did with the failing call's siblings).
"""

from __future__ import annotations

from typing import Any

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session
from autograder.servers.limited import (
    FAILING_PART,
    OUTAGE_PREFIX,
    PART_DELAY,
    PART_LIMIT,
    dashboard_body,
)

N = 10  # dashboards in the burst: 50 calls, five times the upstream's limit
ONE_LIMIT = 0.4  # one dashboard alone: about one upstream delay (0.2 s), not five (1.0 s)
BURST_LIMIT = 1.5  # 50 calls at 10 a time: five waves of 0.2 s = 1.0 s
GRACE = 0.1  # waited past a limit before the verdict counts as settled
FAILING_USER = f"{OUTAGE_PREFIX}7"
BYSTANDER = "bystander"
FAIL_WAIT = 1.5  # the failing dashboard and its healthy neighbour
QUIET_WAIT = 1.2  # five calls of 0.2 s and some: a dashboard given up on is done by then


def _user(r: Response) -> str:
    return r.request.path.rsplit("/", 1)[1]


async def _parts_calls(s: Session) -> dict[str, Any]:
    return dict((await s.deps_stats())["limited"]["parts"])


async def _quiet(s: Session) -> None:
    """Wait until no call is in flight at the upstream: a request the grader gave up on
    may still be calling it, and must not count against the next phase's limit."""

    async def ended() -> bool:
        return all("end" in c for c in (await _parts_calls(s))["calls"])

    await s.wait_until(ended, wait_at_most=QUIET_WAIT)


async def measure(s: Session) -> Figures:
    s.start_loop_probe()  # for the diagnosis and the metrics; no check reads it
    await s.send(Request("GET", "/dashboard/warmup"))
    await s.reset_deps()
    solo = await s.burst([Request("GET", "/dashboard/solo")], give_up_after=ONE_LIMIT + GRACE)
    await _quiet(s)
    burst = await s.burst(
        [Request("GET", f"/dashboard/user{i}") for i in range(N)],
        give_up_after=BURST_LIMIT + GRACE,
    )
    await _quiet(s)
    pair = await s.burst(
        [Request("GET", f"/dashboard/{FAILING_USER}"), Request("GET", f"/dashboard/{BYSTANDER}")],
        give_up_after=FAIL_WAIT,
    )

    async def failing_calls_ended() -> bool:
        calls = (await _parts_calls(s))["calls"]
        return all("end" in c for c in calls if c["user"] == FAILING_USER)

    # Siblings left running reach their answer one upstream delay after they started.
    await s.wait_until(failing_calls_ended, wait_at_most=PART_DELAY + 0.3)
    stats = await _parts_calls(s)
    loop = await s.stop_loop_probe()
    failing = [c for c in stats["calls"] if c["user"] == FAILING_USER]
    return s.figures(
        requests=burst,
        waited=BURST_LIMIT + GRACE,
        loop=loop,
        extra={
            "solo_ms": None if solo[0].latency is None else round(solo[0].latency * 1000, 1),
            "upstream_peak_in_flight": stats["peak"],
            "upstream_refused_429": stats["refused"],
            "failing_dashboard_status": pair[0].status,
            "failing_dashboard_calls": [
                {
                    "part": c["part"],
                    "outcome": c.get("outcome"),
                    "start_ms": round((c["start"] - pair[0].start) * 1000, 1),
                    "end_ms": None
                    if "end" not in c
                    else round((c["end"] - pair[0].start) * 1000, 1),
                }
                for c in failing
            ],
            "_solo": solo,
            "_pair": pair,
            "_failing_calls": failing,
        },
    )


def _expected(r: Response) -> tuple[int, dict[str, Any]]:
    return 200, dashboard_body(_user(r))


def judge(f: Figures) -> list[Check]:
    solo: list[Response] = list(f.extra.get("_solo", []))
    pair: list[Response] = list(f.extra.get("_pair", []))
    peak = f.extra.get("upstream_peak_in_flight", 0)
    refused = f.extra.get("upstream_refused_429", 0)
    responses = checks.bodies_match(
        "responses", [*solo, *f.requests, *pair[1:]], _expected, what="dashboards"
    )
    late = [r.request.path for r in pair if not r.done]
    if responses.passed and late:
        responses = Check(
            "responses",
            False,
            f"GET {', '.join(late)} had no answer {FAIL_WAIT:.1f} s after it was sent "
            "(a dashboard with a failed part must answer a 5xx at once)",
        )
    elif responses.passed and pair and (pair[0].status or 0) < 500:
        responses = Check(
            "responses",
            False,
            f"GET /dashboard/{FAILING_USER} answered {pair[0].status} although its "
            f"{FAILING_PART} call failed with 503 (expected a 5xx, e.g. 502)",
        )
    return [
        checks.each_answered_within("fans-out", solo, ONE_LIMIT, what="dashboard asked alone"),
        responses,
        checks.at_most(
            "upstream-limit",
            refused,
            0,
            message="the upstream refused {value} calls with 429 (at most {maximum} allowed: "
            f"it accepts {PART_LIMIT} in flight at once from the service; the service's peak was {peak})",
        ),
        checks.all_finished_within(
            "burst", f.requests, BURST_LIMIT, waited=f.waited, what="dashboards"
        ),
        checks.siblings_cancelled(
            "siblings-cancelled", f.extra.get("_failing_calls", []), what=FAILING_PART
        ),
    ]


EXERCISE = Exercise(
    id="fan-out",
    title="A dashboard that asks its five parts one after another",
    summary="GET /dashboard/{user} makes 5 calls to a 0.2 s upstream that allows 10 in flight: "
    "one dashboard in about 0.2 s, no 429s, and a failed call cancels its siblings",
    checks=("fans-out", "responses", "upstream-limit", "burst", "siblings-cancelled"),
    measure=measure,
    judge=judge,
)
