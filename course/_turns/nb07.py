"""The "your turn" scenario of notebook 07, graded by the course's grader.

- ``07-dashboard``: a dashboard that fans out with ``asyncio.gather`` and no limit; the
  ``fan-out`` exercise's scenario and checks (one dashboard in about one upstream delay,
  no 429 from the account service under a burst, a failed part cancels its siblings).
- ``07-orders``: the ``pool-stall`` exercise's own starter (orders that hold a PostgreSQL
  connection across the pricing call), scenario and checks, on a private PostgreSQL the
  grader starts (40 orders answered within 1.5 s, 5 connections, none idle in a
  transaction); the reference is ``solutions/pool-stall/two_transactions.py``.
"""

from __future__ import annotations

from _practice import COURSE, YourTurn, turn

from autograder.judges import fan_out, pool_stall
from autograder.judges.exercise import Exercise
from autograder.servers.limited import PART_LIMIT

ROOT = COURSE.parent

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
    # The exercise's own files (not copies), as 09's turns do.
    YourTurn(
        id="07-orders",
        starter=ROOT / "exercises" / "pool-stall" / "starter.py",
        reference=ROOT / "solutions" / "pool-stall" / "two_transactions.py",
        exercise=pool_stall.EXERCISE,
        fails_on="held",
    ),
)
