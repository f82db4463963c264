"""The spot-and-fix drills' scenarios and judges: what each sends, measures and checks.

The same shape as a graded exercise (a scenario on :class:`autograder.measure.session.Session`,
a judge made of :mod:`autograder.judges.checks`), with the graded exercises' limits, read from
their modules rather than copied (``blocking-sleep``'s burst: 20 at once in under 1 s,
the loop never blocked over 200 ms; ``background-tasks``' staggered requests), and their
scenario shapes (:mod:`autograder.judges.scenarios`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from autograder.judges import background_tasks as staggered
from autograder.judges import blocking_sleep as burst
from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.scenarios import burst_figures, staggered_under_probe
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session
from autograder.servers.process import legacy_body, weather_body

# The graded exercises' limits, not copies: a burst of N at once, all answered within
# TOTAL_LIMIT, the loop never blocked over LAG_LIMIT.
N, TOTAL_LIMIT, LAG_LIMIT, GRACE = burst.N, burst.TOTAL_LIMIT, burst.LAG_LIMIT, burst.GRACE
WAITED = TOTAL_LIMIT + GRACE


def _concurrent(f: Figures, what: str) -> Check:
    return checks.all_finished_within(
        "concurrent", f.requests, TOTAL_LIMIT, waited=f.waited, what=what
    )


def _loop_free(f: Figures) -> Check:
    return checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes)


def _peak(f: Figures, minimum: int, what: str) -> Check:
    return checks.at_least(
        "upstream-concurrency",
        f.extra.get("upstream_peak_in_flight", 0),
        minimum,
        message="the upstream saw at most {value} calls in flight at once while "
        + f"{N} {what} arrived together (at least {{minimum}} expected)",
    )


def _ids(r: Response) -> int:
    return int(r.request.path.rsplit("/", 1)[1])


# fix-file-write -----------------------------------------------------------------------------


async def measure_file_write(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    notes = [Request("POST", "/notes", {"note_id": f"{tag}-{i}", "text": "hi"}) for i in range(N)]
    warm_up = Request("POST", "/notes", {"note_id": f"warm-{tag}", "text": "hi"})
    responses, loop = await s.probed_burst(warm_up, notes, give_up_after=WAITED)
    lines = set(s.audit_lines())
    stored = sum(1 for i in range(N) if f"note {tag}-{i}: hi" in lines)
    return s.figures(requests=responses, waited=WAITED, loop=loop, extra={"notes_stored": stored})


def judge_file_write(f: Figures) -> list[Check]:
    answered = sum(1 for r in f.requests if r.done)
    return [
        _concurrent(f, "notes"),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (201, {"stored": r.request.json_body["note_id"]}),
            what="notes",
        ),
        checks.at_least(
            "stored",
            f.extra.get("notes_stored", 0),
            max(answered, 1),
            message="AUDIT_LOG holds {value} of the {minimum:.0f} notes that were answered",
        ),
        _loop_free(f),
    ]


# fix-blocking-dependency ------------------------------------------------------------------


async def measure_dependency(s: Session) -> Figures:
    requests = [Request("GET", f"/accounts/{i}") for i in range(1, N + 1)]
    return await burst_figures(s, Request("GET", "/accounts/0"), requests, waited=WAITED)


def judge_dependency(f: Figures) -> list[Check]:
    return [
        _concurrent(f, "requests"),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (200, {"account_id": _ids(r), "balance": 100 + _ids(r)}),
            what="requests",
        ),
        checks.each_took_at_least("still-connects", f.requests, 0.15),
        _loop_free(f),
    ]


# fix-blocking-middleware ------------------------------------------------------------------


async def measure_middleware(s: Session) -> Figures:
    requests = [Request("GET", f"/reports/{i}") for i in range(1, N + 1)]
    f = await burst_figures(
        s, Request("GET", "/reports/0"), requests, waited=WAITED, reset_deps=True
    )
    upstream = (await s.deps_stats())["upstream"]  # one reading: the peak and the calls agree
    checked = {
        "upstream_peak_in_flight": upstream["peak"],
        "permission_checks": len(upstream["requests"]),
    }
    return replace(f, extra=checked)


def judge_middleware(f: Figures) -> list[Check]:
    answered = sum(1 for r in f.requests if r.done)
    return [
        _concurrent(f, "requests"),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (200, {"report_id": _ids(r), "status": "ready"}),
            what="requests",
        ),
        checks.at_least(
            "still-checks",
            f.extra.get("permission_checks", 0),
            max(answered, 1),
            message="the permissions service was asked {value} times for {minimum:.0f} "
            "answered requests (every request must still be checked)",
        ),
        _peak(f, N - 2, "requests"),
        _loop_free(f),
    ]


# fix-lock-serialises ----------------------------------------------------------------------


async def measure_lock(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    cities = [f"city-{tag}-{i}" for i in range(N)]
    requests = [Request("GET", f"/weather/{c}") for c in cities]
    warm_up = Request("GET", f"/weather/warm-{tag}")
    f = await burst_figures(
        s, warm_up, requests, waited=WAITED, reset_deps=True, upstream_peak=True
    )
    if not all(r.done for r in f.requests):
        return f
    await s.reset_deps()  # the same cities again: all from the cache
    again = await s.burst(requests, give_up_after=WAITED)
    second = {
        "second_round_answered": sum(1 for r in again if r.done and r.status == 200),
        "second_round_upstream_calls": len((await s.deps_stats())["upstream"]["requests"]),
    }
    return replace(f, extra={**f.extra, **second})


def judge_lock(f: Figures) -> list[Check]:
    x = f.extra
    if "second_round_upstream_calls" not in x:
        cached = checks.not_measured("cached", "the first round was not all answered in time")
    else:
        calls, answered = x["second_round_upstream_calls"], x["second_round_answered"]
        cached = Check(
            "cached",
            calls == 0 and answered == N,
            f"asking for the same {N} cities again answered {answered} of {N} and made "
            f"{calls} upstream calls (0 expected: they are cached)",
        )
    return [
        _concurrent(f, "requests for different cities"),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (200, weather_body(r.request.path.rsplit("/", 1)[1])),
            what="requests",
        ),
        _peak(f, N - 2, "requests for different cities"),
        cached,
    ]


# fix-background-sync-http -----------------------------------------------------------------

# background-tasks' shape and limits: requests INTERVAL apart, each answered within
# EACH_LIMIT, the work after the response done within DELIVERY_LIMIT.
SIGNUPS = staggered.N
SIGNUP_WAITED = SIGNUPS * staggered.INTERVAL + staggered.EACH_LIMIT + staggered.GRACE


async def measure_background(s: Session) -> Figures:
    base = 1000 + uuid.uuid4().int % 100_000 * 100
    ids = [base + i for i in range(SIGNUPS)]
    responses = await staggered_under_probe(
        s,
        Request("POST", "/signup", {"user_id": base - 1}),
        [Request("POST", "/signup", {"user_id": i}) for i in ids],
        interval=staggered.INTERVAL,
        give_up_after=SIGNUP_WAITED,
    )

    async def reached() -> set[int]:
        paths = {r["path"] for r in (await s.deps_stats())["upstream"]["requests"] if r["end"]}
        return {i for i in ids if f"/legacy/{i}" in paths}

    async def all_reached() -> bool:
        return len(await reached()) == len(ids)

    await s.wait_until(all_reached, wait_at_most=staggered.DELIVERY_LIMIT)
    loop = await s.stop_loop_probe()
    return s.figures(
        requests=responses,
        waited=SIGNUP_WAITED,
        loop=loop,
        extra={"webhooks_delivered": len(await reached()), "signups": len(ids)},
    )


def judge_background(f: Figures) -> list[Check]:
    return [
        checks.each_answered_within(
            "fast-answers",
            f.requests,
            staggered.EACH_LIMIT,
            what=f"sign-ups sent {staggered.INTERVAL * 1000:.0f} ms apart",
        ),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (202, {"accepted": r.request.json_body["user_id"]}),
            what="sign-ups",
        ),
        checks.at_least(
            "crm-notified",
            f.extra.get("webhooks_delivered", 0),
            f.extra.get("signups", SIGNUPS),
            message="the CRM heard about {value} of {minimum:.0f} sign-ups within "
            f"{staggered.DELIVERY_LIMIT:.0f} s",
        ),
        _loop_free(f),
    ]


# fix-tiny-executor ------------------------------------------------------------------------


async def measure_executor(s: Session) -> Figures:
    requests = [Request("GET", f"/inventory/{i}") for i in range(1, N + 1)]
    return await burst_figures(
        s,
        Request("GET", "/inventory/0"),
        requests,
        waited=WAITED,
        reset_deps=True,
        upstream_peak=True,
    )


def judge_executor(f: Figures) -> list[Check]:
    return [
        _concurrent(f, "requests"),
        checks.bodies_match(
            "responses", f.requests, lambda r: (200, legacy_body(_ids(r))), what="requests"
        ),
        _peak(f, N - 2, "requests"),
    ]
