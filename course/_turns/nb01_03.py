"""The "your turn" scenarios of notebooks 01-03: the grader's shapes and checks, sized for a lesson.

- ``01-brew``: twenty pots of tea brewed with a blocking sleep in ``async def``.
- ``02-trip``: a trip planner that asks the upstream with a blocking HTTP client.
- ``03-welcome``: sign-ups whose welcome email, a background task, blocks the loop.
"""

from __future__ import annotations

import time
import uuid

from _practice import GRACE, LAG_LIMIT, TOTAL_LIMIT, N, YourTurn, concurrent, loop_free, turn

from autograder.judges import Exercise, checks
from autograder.judges.checks import Check
from autograder.judges.scenarios import burst_figures, staggered_under_probe
from autograder.measure.load import Request
from autograder.measure.session import Figures, Session
from autograder.servers.process import weather_body

# 01: a pot of tea that holds the loop while it brews.
BREW = 0.3


async def measure_brew(s: Session) -> Figures:
    pots = [Request("GET", f"/brew/pot{i}") for i in range(N)]
    return await burst_figures(s, Request("GET", "/brew/warmup"), pots, waited=TOTAL_LIMIT + GRACE)


def judge_brew(f: Figures) -> list[Check]:
    # Judged on a pot brewed alone (the warm-up) too: a fire-and-forget brew answers at
    # once, and only looks slow in the burst while earlier brews hold the loop.
    least = BREW - 0.05
    return [
        checks.judged_only_if_the_work_is_done(
            concurrent(f, "brews"), f.alone, least, work="brew", by="still-brews"
        ),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (200, {"pot": r.request.path.rsplit("/", 1)[1], "brewed": True}),
            what="brews",
        ),
        checks.work_took_its_time("still-brews", f.requests, least, alone=f.alone, work="brew"),
        loop_free(f),
    ]


# 02: a trip planner that asks the upstream about two cities.
TRIPS = [("oslo", "lima"), ("cairo", "perth"), ("quito", "hanoi"), ("dakar", "sofia"),
         ("minsk", "tunis"), ("accra", "baku"), ("doha", "riga"), ("rome", "kyiv"),
         ("bern", "male"), ("apia", "suva")] * 2
TRIP_PEAK = 15


async def measure_trip(s: Session) -> Figures:
    trips = [Request("GET", f"/trip/{a}/{b}") for a, b in TRIPS]
    return await burst_figures(
        s, Request("GET", "/trip/here/there"), trips,
        waited=TOTAL_LIMIT + GRACE, reset_deps=True, upstream_peak=True,
    )


def _trip_body(path: str) -> dict[str, object]:
    _, _, a, b = path.split("/")
    return {"from": weather_body(a), "to": weather_body(b)}


def judge_trip(f: Figures) -> list[Check]:
    return [
        concurrent(f, "trips"),
        checks.bodies_match(
            "responses", f.requests, lambda r: (200, _trip_body(r.request.path)), what="trips"
        ),
        checks.at_least(
            "upstream-concurrency",
            f.extra.get("upstream_peak_in_flight", 0),
            TRIP_PEAK,
            message="the upstream saw at most {value} calls in flight at once while "
            f"{N} trips arrived together (at least {{minimum}} expected)",
        ),
        loop_free(f),
    ]


# 03: sign-ups whose welcome email is a background task.
SIGNUPS, INTERVAL, EACH_LIMIT, DELIVERY_LIMIT = 10, 0.03, 0.1, 5.0
SIGNUP_WAITED = SIGNUPS * INTERVAL + EACH_LIMIT + 0.4


async def measure_welcome(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    users = [f"u{i}-{tag}" for i in range(SIGNUPS)]
    responses = await staggered_under_probe(
        s,
        Request("POST", f"/signup/warmup-{tag}"),
        [Request("POST", f"/signup/{u}") for u in users],
        interval=INTERVAL,
        give_up_after=SIGNUP_WAITED,
    )
    t_sent = time.monotonic()

    async def welcomed() -> set[str]:
        subjects = {m["subject"] for m in (await s.deps_stats())["smtp"]["messages"]}
        return {u for u in users if f"Welcome, {u}" in subjects}

    async def all_welcomed() -> bool:
        return len(await welcomed()) == len(users)

    await s.wait_until(all_welcomed, wait_at_most=DELIVERY_LIMIT - (time.monotonic() - t_sent))
    loop = await s.stop_loop_probe()
    return s.figures(
        requests=responses,
        waited=SIGNUP_WAITED,
        loop=loop,
        extra={"welcomed": len(await welcomed()), "signups": len(users)},
    )


def judge_welcome(f: Figures) -> list[Check]:
    return [
        checks.each_answered_within(
            "fast-answers", f.requests, EACH_LIMIT,
            what=f"sign-ups sent {INTERVAL * 1000:.0f} ms apart",
        ),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (202, {"welcome": r.request.path.rsplit("/", 1)[1]}),
            what="sign-ups",
        ),
        checks.at_least(
            "welcomed",
            f.extra.get("welcomed", 0),
            f.extra.get("signups", SIGNUPS),
            message="{value} of {minimum:.0f} welcome emails reached the SMTP server "
            f"within {DELIVERY_LIMIT:.0f} s",
        ),
        loop_free(f),
    ]


TURNS: tuple[YourTurn, ...] = (
    turn("01-brew", Exercise(
        id="01-brew",
        title="Twenty pots of tea, brewed one after another",
        summary=f"{N} GET /brew/{{pot}} at once within {TOTAL_LIMIT:.0f} s, each still "
        f"brewing {BREW} s, the loop never blocked over {LAG_LIMIT * 1000:.0f} ms",
        checks=("concurrent", "responses", "still-brews", "loop-free"),
        measure=measure_brew,
        judge=judge_brew,
    ), fails_on="loop-free"),
    turn("02-trip", Exercise(
        id="02-trip",
        title="A trip planner that plans one trip at a time",
        summary=f"{N} GET /trip/{{a}}/{{b}} at once within {TOTAL_LIMIT:.0f} s, their "
        f"upstream calls in flight together, the loop never blocked",
        checks=("concurrent", "responses", "upstream-concurrency", "loop-free"),
        measure=measure_trip,
        judge=judge_trip,
    ), fails_on="loop-free"),
    turn("03-welcome", Exercise(
        id="03-welcome",
        title="Sign-ups that freeze while the welcome email goes out",
        summary=f"{SIGNUPS} POST /signup/{{user}}, {INTERVAL * 1000:.0f} ms apart, each "
        f"answered in under {EACH_LIMIT * 1000:.0f} ms, every welcome email delivered, "
        "the loop never blocked",
        checks=("fast-answers", "responses", "welcomed", "loop-free"),
        measure=measure_welcome,
        judge=judge_welcome,
    ), fails_on="loop-free"),
)
