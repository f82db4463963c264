"""Grade one submission: serve it, run the exercise's scenario, judge the figures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from autograder.judges import EXERCISES, Beside, Exercise, Unmeasurable
from autograder.judges.checks import Check
from autograder.judges.verdict import Verdict
from autograder.measure.diagnosis import diagnose
from autograder.measure.session import Figures, Session
from autograder.run import runner
from autograder.run.deaths import death_message
from autograder.run.handles import Run, SubmissionFailed
from autograder.sandbox import environment

log = logging.getLogger(__name__)

# A process that dies mid-run drops its connections a moment before the supervisor's
# report of its exit arrives, and a short scenario can end in between: once a request was
# dropped, the grader waits this long for that report before calling the app alive.
EXIT_REPORT_WAIT = 2.0


async def _stayed_up(run: Run, figures: Figures) -> bool:
    if run.app_alive() and run.app_process is not None and any(r.dropped for r in figures.requests):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.app_process.wait(), EXIT_REPORT_WAIT)
    return run.app_alive()


async def grade_async(exercise: Exercise, app_file: Path) -> Verdict:
    t0 = time.monotonic()
    env = environment.describe()
    prepared = asyncio.create_task(asyncio.to_thread(exercise.prepare or (lambda: None)))
    try:
        async with contextlib.AsyncExitStack() as stack:
            beside = Beside()
            if exercise.beside is not None:
                beside = await stack.enter_async_context(exercise.beside())
            run = await stack.enter_async_context(
                runner.running(
                    app_file,
                    restartable=exercise.restartable,
                    env=dict(beside.env),
                    reachable=beside.reachable,
                )
            )
            log.info("%s: measuring", exercise.id)
            session = Session(run)
            session.prepared = await prepared
            session.beside = beside.handle
            figures = await exercise.measure(session)
            alive = await _stayed_up(run, figures)
            death = None
            if not alive:
                assert run.app_process is not None
                code = await run.app_process.wait()
                death = death_message(run, code, before_ready=False)
            report = run.report()
    except (SubmissionFailed, Unmeasurable) as exc:
        await prepared
        message = str(exc)
        never = "the submission never served"
        if isinstance(exc, Unmeasurable):
            message, never = f"not served: {exc}", "this machine cannot grade it (see serves)"
        checks = [Check("serves", False, message)] + [
            Check(name, False, f"not measured: {never}") for name in exercise.checks
        ]
        return Verdict(
            exercise.id, tuple(checks), None, {"grading_s": round(time.monotonic() - t0, 2)}, env
        )

    serves = Check(
        "serves",
        alive,
        "the app imported, served and stayed up for the whole run" if alive else str(death),
    )
    checks = [serves, *exercise.judge(figures)]
    diagnosis = None
    if not all(c.passed for c in checks):
        diagnosis = diagnose(
            report, str(app_file), outside_lag=figures.loop_lag, since=figures.began
        )
    metrics = figures.metrics()
    metrics["grading_s"] = round(time.monotonic() - t0, 2)
    return Verdict(exercise.id, tuple(checks), diagnosis, metrics, env)


def grade(exercise_id: str, app_file: str | Path) -> Verdict:
    """Grade ``app_file`` against an exercise; blocking (runs its own event loop)."""
    return asyncio.run(grade_async(EXERCISES[exercise_id], Path(app_file)))
