"""The "your turn" of notebook 08, graded by the course's grader.

- ``08-confirm``: a job table whose workers mark a job done when they take it, before
  the email is sent; graded by the ``durable-jobs`` exercise's own scenario and checks
  (a batch of orders, SIGKILL mid-send, a restart, then SIGTERM mid-send): the starter
  loses the emails being sent at the kill and fails ``survives-crash``.
"""

from __future__ import annotations

from _practice import YourTurn, turn

from autograder.judges import durable_jobs

TURNS: tuple[YourTurn, ...] = (
    turn("08-confirm", durable_jobs.EXERCISE, fails_on="survives-crash"),
)
