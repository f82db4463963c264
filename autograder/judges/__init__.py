"""The graded exercises' judges. Each module holds one: its scenario (what load to send and
what to measure, from outside) and its judge (pure: figures in, checks out).

The contract they implement is written out in ``docs/contract/`` (one file per exercise,
listing each module's constants; ``tests/test_contract_docs.py`` keeps the two in step).
Scenario shapes several exercises share are in :mod:`autograder.judges.scenarios`.
"""

from __future__ import annotations

from autograder.judges.exercise import Exercise

__all__ = ["EXERCISES", "Exercise"]


def _load() -> dict[str, Exercise]:
    from autograder.judges import (
        background_tasks,
        blocking_http,
        blocking_sleep,
        blocking_smtp,
        cpu_bound,
        durable_jobs,
        fan_out,
        starved_health,
        streaming,
        threadpool_exhaustion,
        timeouts,
    )

    modules = (
        blocking_sleep,
        blocking_http,
        blocking_smtp,
        threadpool_exhaustion,
        cpu_bound,
        background_tasks,
        durable_jobs,
        streaming,
        timeouts,
        fan_out,
        starved_health,
    )
    return {m.EXERCISE.id: m.EXERCISE for m in modules}


EXERCISES: dict[str, Exercise] = _load()
