"""The graded exercises' judges. Each module holds one: its scenario (what load to send and
what to measure, from outside) and its judge (pure: figures in, checks out).

The contract they implement is the course's ``exercises.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from autograder.checks import Check
from autograder.session import Figures, Session


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    summary: str
    checks: tuple[str, ...]
    measure: Callable[[Session], Awaitable[Figures]]
    judge: Callable[[Figures], list[Check]]
    # Work done in a thread while the submission starts (its result: ``Session.prepared``).
    prepare: Callable[[], object] | None = None


def _load() -> dict[str, Exercise]:
    from autograder.judges import (
        background_tasks,
        blocking_http,
        blocking_sleep,
        blocking_smtp,
        cpu_bound,
        fan_out,
        starved_health,
        threadpool_exhaustion,
    )

    modules = (
        blocking_sleep,
        blocking_http,
        blocking_smtp,
        threadpool_exhaustion,
        cpu_bound,
        background_tasks,
        fan_out,
        starved_health,
    )
    return {m.EXERCISE.id: m.EXERCISE for m in modules}


EXERCISES: dict[str, Exercise] = _load()
