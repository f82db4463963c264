"""Scenario shapes the exercises share (the spot-and-fix drills measure with them too).

Each is a few :class:`autograder.measure.session.Session` calls in a fixed order; keeping them
in one place keeps the exercises and the drills measuring the same way.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.measure.burst import LOOP
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session


async def burst_figures(
    s: Session,
    warm_up: Request,
    requests: Sequence[Request],
    *,
    waited: float,
    reset_deps: bool = False,
    upstream_peak: bool = False,
) -> Figures:
    """All ``requests`` at once under the loop probe (from the warm-up on), given up on
    after ``waited`` seconds. ``reset_deps`` forgets the warm-up's upstream call;
    ``upstream_peak`` adds the most calls the upstream had in flight at once
    (``upstream_peak_in_flight``). The warm-up, sent alone, is the figures' ``alone``."""
    burst = await s.measure_burst(
        requests, give_up_after=waited, probe=LOOP, warm_up=warm_up, reset_deps=reset_deps
    )
    extra = {"upstream_peak_in_flight": await s.upstream_peak()} if upstream_peak else {}
    return s.figures(
        requests=burst.responses, waited=waited, loop=burst.loop, extra=extra, alone=burst.warm_up
    )


async def staggered_under_probe(
    s: Session,
    warm_up: Request,
    requests: Sequence[Request],
    *,
    interval: float,
    give_up_after: float,
) -> list[Response]:
    """The loop probe from the warm-up on, then ``requests`` sent ``interval`` apart.

    The probe keeps running (what the service does after answering counts too): the
    caller stops it with :meth:`Session.stop_loop_probe`.
    """
    s.start_loop_probe()
    await s.send(warm_up)
    return await s.staggered(requests, interval=interval, give_up_after=give_up_after)


async def watch_hanging_quotes(s: Session, close_limit: float) -> list[dict[str, Any]]:
    """Watch the connections the quote upstream holds open (its ``hangs``) until each is
    closed or ``close_limit`` has passed since the last one opened; return them."""

    async def hangs() -> list[dict[str, Any]]:
        return list((await s.deps_stats())["slow"]["quotes"]["hangs"])

    async def all_closed() -> bool:
        return all(h["closed"] is not None for h in await hangs())

    held = await hangs()
    if held:
        last = max(h["opened"] for h in held) + close_limit
        await s.wait_until(all_closed, wait_at_most=last - time.monotonic())
    return await hangs()


# -- orders: POST /orders {"order_id"} answered 202 {"accepted": id} at once ----------------


def accepted_ids(responses: Sequence[Response]) -> list[str]:
    """The order ids answered 202."""
    return [r.request.json_body["order_id"] for r in responses if r.done and r.status == 202]


def order_answer_checks(f: Figures, *, each_limit: float, interval: float) -> list[Check]:
    """``fast-answers`` and ``responses`` for orders sent ``interval`` apart."""
    return [
        checks.each_answered_within(
            "fast-answers",
            f.requests,
            each_limit,
            what=f"orders sent {interval * 1000:.0f} ms apart",
        ),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (202, {"accepted": r.request.json_body["order_id"]}),
            what="orders",
        ),
    ]
