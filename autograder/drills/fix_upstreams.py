"""Two spot-and-fix drills on upstreams: a fan-out the upstream throttles, and calls that hang.

Same shape as :mod:`autograder.drills.fix_scenarios`: a scenario on
:class:`autograder.measure.session.Session` and a judge made of :mod:`autograder.judges.checks`, with
the dependency servers and limits of the graded exercises ``fan-out`` (the parts API
accepts ``PART_LIMIT`` calls in flight and answers 429 beyond) and ``timeouts`` (about
half the quotes never answer; the upstream records when each hanging connection was
closed). Every deciding figure is read at the client or at the upstream.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

from autograder.judges import checks
from autograder.judges import timeouts as hung
from autograder.judges.checks import Check
from autograder.judges.scenarios import burst_figures, watch_hanging_quotes
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session
from autograder.servers.limited import PART_DELAY, PART_LIMIT, part_body
from autograder.servers.slow import quote_body, quote_hangs

# fix-fanout-throttled ---------------------------------------------------------------------

DIGESTS = 3  # at once, each of MEMBERS: 60 calls, six times the API's limit
MEMBERS = 20  # a team larger than the limit: one digest alone already overflows it
WAVES = DIGESTS * MEMBERS // PART_LIMIT
DIGEST_LIMIT = 2.0  # six waves of 0.2 s = 1.2 s; one after another, a digest takes 4 s
DIGEST_WAITED = DIGEST_LIMIT + 0.1


def team(tag: str, i: int) -> list[str]:
    return [f"{tag}-t{i}-m{k}" for k in range(MEMBERS)]


async def measure_fanout(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    digests = [Request("POST", "/digest", {"users": team(tag, i)}) for i in range(DIGESTS)]
    warm_up = Request("POST", "/digest", {"users": [f"{tag}-warm"]})
    f = await burst_figures(s, warm_up, digests, waited=DIGEST_WAITED, reset_deps=True)
    parts = (await s.deps_stats())["limited"]["parts"]
    return replace(
        f,
        extra={"upstream_peak_in_flight": parts["peak"], "upstream_refused_429": parts["refused"]},
    )


def _digest(r: Response) -> tuple[int, dict[str, Any]]:
    users = r.request.json_body["users"]
    return 200, {"profiles": [part_body("profile", u) for u in users]}


def judge_fanout(f: Figures) -> list[Check]:
    peak = f.extra.get("upstream_peak_in_flight", 0)
    return [
        checks.bodies_match("responses", f.requests, _digest, what="digests"),
        checks.at_most(
            "upstream-limit",
            f.extra.get("upstream_refused_429", 0),
            0,
            message="the profiles API refused {value} calls with 429 (at most {maximum} "
            f"allowed: it accepts {PART_LIMIT} in flight from the whole service; the "
            f"service's peak was {peak})",
        ),
        checks.all_finished_within(
            "burst", f.requests, DIGEST_LIMIT, waited=f.waited, what="team digests"
        ),
    ]


FANOUT_SUMMARY = (
    f"{DIGESTS} POST /digest at once, each for {MEMBERS} members (one profile call of "
    f"{PART_DELAY:.1f} s each, the API accepts {PART_LIMIT} in flight): every digest right, no "
    f"429 at the API, all answered within {DIGEST_LIMIT:.0f} s"
)

# fix-hung-upstream ------------------------------------------------------------------------

HANGING = 40  # as many as AnyIO's thread tokens: a service that waits forever has none left
HEALTHY = 10
HEALTH_CHECKS = 5
LATER = 0.1  # the healthy prices and /health arrive this long after the hanging ones
DEADLINE, CLOSE_LIMIT, GRACE = hung.DEADLINE, hung.CLOSE_LIMIT, hung.GRACE


def _symbols(secret: str, tag: str, hangs: bool, n: int) -> list[str]:
    found = (f"{tag}{i}" for i in range(10_000))
    return [s for s in found if quote_hangs(secret, s) == hangs][:n]


async def measure_hung(s: Session) -> Figures:
    secret = (await s.deps_stats())["slow"]["secret"]
    tag = "P" + uuid.uuid4().hex[:4].upper()
    await s.send(Request("GET", f"/price/{_symbols(secret, tag + 'W', False, 1)[0]}"))
    await s.send(Request("GET", "/health"))
    await s.reset_deps()
    hanging = [Request("GET", f"/price/{x}") for x in _symbols(secret, tag + "H", True, HANGING)]
    later = [Request("GET", f"/price/{x}") for x in _symbols(secret, tag, False, HEALTHY)]
    later += [Request("GET", "/health")] * HEALTH_CHECKS

    async def then(requests: list[Request]) -> list[Response]:
        await asyncio.sleep(LATER)
        return await s.burst(requests, give_up_after=DEADLINE + GRACE)

    s.start_loop_probe()
    first, second = await asyncio.gather(
        s.burst(hanging, give_up_after=DEADLINE + GRACE), then(later)
    )

    hangs = await watch_hanging_quotes(s, CLOSE_LIMIT)
    loop = await s.stop_loop_probe()
    return s.figures(
        requests=[*first, *second],
        waited=DEADLINE + GRACE,
        loop=loop,
        extra={
            "hanging_connections": len(hangs),
            "hanging_still_open": sum(1 for h in hangs if h["closed"] is None),
            "_secret": secret,
            "_hangs": [(h["opened"], h["closed"]) for h in hangs],
        },
    )


def judge_hung(f: Figures) -> list[Check]:
    secret = f.extra.get("_secret", "")

    def expected(r: Response) -> tuple[int, object]:
        if r.request.path == "/health":
            return 200, {"status": "ok"}
        sym = r.request.path.rsplit("/", 1)[1]
        if not quote_hangs(secret, sym):
            return 200, quote_body(secret, sym)
        if r.status == 200:  # a fallback: the symbol and no price
            return 200, {"symbol": sym, "price": None}
        return 504, r.json()  # a gateway timeout, whatever its body says

    return [
        checks.each_answered_within(
            "deadline",
            f.requests,
            DEADLINE,
            what=f"requests ({HANGING} prices that hang upstream, then {HEALTHY} that do not "
            f"and {HEALTH_CHECKS} GET /health)",
        ),
        checks.bodies_match("responses", f.requests, expected, what="requests"),
        checks.closed_within(
            "cleanup", f.extra.get("_hangs", []), CLOSE_LIMIT, what="hanging feed connections"
        ),
    ]


HUNG_SUMMARY = (
    f"{HANGING} GET /price/{{symbol}} that hang at the feed, then {HEALTHY} that do not and "
    f"{HEALTH_CHECKS} GET /health: every request answered within {DEADLINE:.0f} s (a hung "
    f"price with 504 or a fallback), each hanging feed connection closed within "
    f"{CLOSE_LIMIT:.1f} s"
)
