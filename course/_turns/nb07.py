"""The "your turn" scenario of notebook 07, graded by the course's grader.

- ``07-dashboard``: a dashboard that fans out with ``asyncio.gather`` and no limit; the
  ``fan-out`` exercise's scenario and checks (one dashboard in about one upstream delay,
  no 429 from the account service under a burst, a failed part cancels its siblings).
- ``07-orders``: orders that hold a PostgreSQL connection across the pricing call; the
  ``pool-stall`` exercise's scenario and checks, on a private PostgreSQL the grader starts
  (40 orders answered within 1.5 s, 5 connections, none idle in a transaction).
"""

from __future__ import annotations

from _practice import YourTurn, turn

from autograder.judges import fan_out, pool_stall
from autograder.judges.exercise import Exercise
from autograder.servers.limited import PART_LIMIT

TURNS: tuple[YourTurn, ...] = (
    turn("07-dashboard", Exercise(
        id="07-dashboard",
        title="A dashboard that fans out with no limit and no cancellation",
        summary=f"GET /dashboard/{{user}}: one in about one upstream delay, {fan_out.N} at once "
        f"with no 429 (the account service accepts {PART_LIMIT} calls in flight), and a "
        "failed part cancels its siblings",
        checks=fan_out.EXERCISE.checks,
        measure=fan_out.measure,
        judge=fan_out.judge,
    ), fails_on="upstream-limit"),
    turn("07-orders", Exercise(
        id="07-orders",
        title="Orders that hold a PostgreSQL connection across the pricing call",
        summary=pool_stall.EXERCISE.summary,
        checks=pool_stall.EXERCISE.checks,
        measure=pool_stall.measure,
        judge=pool_stall.judge,
        beside=pool_stall.database,
    ), fails_on="held"),
)
