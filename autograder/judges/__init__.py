"""The judges: the graded exercises, and the vocabulary every judge speaks.

Each exercise's module holds its scenario (what load to send and what to measure, from
outside) and its judge (pure: figures in, checks out). :mod:`.checks` holds the checks
they share and :mod:`.verdict` the verdict they add up to; :mod:`.scenarios` the
scenario shapes several exercises share, :mod:`.crash` the crash flow (orders, a kill
mid-send, a restart) of durable-jobs and the lab's crash drill.

The contract they implement is written out in ``docs/contract/`` (one file per exercise,
listing each module's constants; ``tests/judges/test_contract_docs.py`` keeps the two in step).

Imports: :mod:`autograder.measure` and the layers below it; never the products (grade,
lab, drills, classroom, scan).
"""

from __future__ import annotations

from autograder.judges.exercise import Beside, Exercise, Unmeasurable

__all__ = ["EXERCISES", "Beside", "Exercise", "Unmeasurable"]


def _load() -> dict[str, Exercise]:
    from autograder.judges import (
        background_tasks,
        blocking_http,
        blocking_sleep,
        blocking_smtp,
        cpu_bound,
        durable_jobs,
        fan_out,
        pool_stall,
        starved_health,
        streaming,
        threadpool_exhaustion,
        timeouts,
        token_stream,
        ws_broadcast,
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
        token_stream,
        pool_stall,
        ws_broadcast,
    )
    return {m.EXERCISE.id: m.EXERCISE for m in modules}


EXERCISES: dict[str, Exercise] = _load()
