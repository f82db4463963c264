"""Spot and fix: a broken endpoint, a clock, and the fix graded by the course's grader.

Each drill is an :class:`autograder.judges.Exercise` of its own, its scenario and judge
in :mod:`autograder.drills.fix_scenarios`, graded with
:func:`autograder.grade.grade_async`: the same runner, dependency servers, load client,
loop probe and limits as the graded exercises. Starters and reference fixes live in
``snippets/fix/<id>/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from autograder.drills import fix_scenarios as fx
from autograder.drills import fix_streams as fs
from autograder.drills import fix_upstreams as fu
from autograder.drills.fix_scenarios import LAG_LIMIT, SIGNUPS, TOTAL_LIMIT, N
from autograder.judges import Exercise, durable_jobs, pool_stall
from autograder.judges import background_tasks as staggered
from autograder.judges.checks import Check
from autograder.judges.verdict import Verdict
from autograder.measure.session import Figures, Session

SNIPPETS = Path(__file__).resolve().parent / "snippets" / "fix"


@dataclass(frozen=True)
class SpotFixDrill:
    id: str
    title: str
    symptom: str  # what a user would report, not the answer
    exercise: Exercise
    time_limit: float = 600.0  # seconds, for a human at a keyboard
    fails_on: str = ""  # the check the untouched starter fails ("" when not named)
    kind: str = "fix"

    @property
    def starter(self) -> Path:
        return SNIPPETS / self.id / "starter.py"

    @property
    def reference(self) -> Path:
        return SNIPPETS / self.id / "fix.py"

    def prompt(self) -> str:
        return f"{self.symptom}\nPassing means: {self.exercise.summary}"

    async def grade_async(self, path: Path) -> Verdict:
        from autograder.grade import grade_async  # the grader, imported when grading

        return await grade_async(self.exercise, path)

    def grade(self, path: str | Path) -> Verdict:
        """Grade ``path`` (blocking; safe in a notebook, where a loop already runs)."""
        from autograder import lab

        return lab.run(self.grade_async(Path(path)), 120)


# -- the drills -----------------------------------------------------------------------------


def _drill(
    id: str,
    title: str,
    symptom: str,
    summary: str,
    checks_: tuple[str, ...],
    measure: Callable[[Session], Awaitable[Figures]],
    judge: Callable[[Figures], list[Check]],
    time_limit: float = 600.0,
    fails_on: str = "",
) -> SpotFixDrill:
    exercise = Exercise(
        id=id, title=title, summary=summary, checks=checks_, measure=measure, judge=judge
    )
    return SpotFixDrill(id, title, symptom, exercise, time_limit, fails_on)


DRILLS: list[SpotFixDrill] = [
    _drill(
        "fix-file-write",
        "Notes that freeze the service while they are saved",
        "Saving a note takes a tenth of a second, yet twenty users saving at once wait two "
        "seconds, and the health check times out meanwhile.",
        f"{N} POST /notes at once must all be answered within {TOTAL_LIMIT:.0f} s, every note "
        f"in AUDIT_LOG, the loop never blocked over {LAG_LIMIT * 1000:.0f} ms",
        ("concurrent", "responses", "stored", "loop-free"),
        fx.measure_file_write,
        fx.judge_file_write,
    ),
    _drill(
        "fix-blocking-dependency",
        "A database dependency that queues every request",
        "Each account lookup should take about 0.2 s (the driver's connect), but under a "
        "burst they come back one after another.",
        f"{N} GET /accounts/{{id}} at once within {TOTAL_LIMIT:.0f} s, each still connecting "
        f"(>= 0.15 s), the loop never blocked over {LAG_LIMIT * 1000:.0f} ms",
        ("concurrent", "responses", "still-connects", "loop-free"),
        fx.measure_dependency,
        fx.judge_dependency,
    ),
    _drill(
        "fix-blocking-middleware",
        "A permissions middleware that makes every endpoint slow",
        "Every endpoint, even the trivial ones, got slow after the permissions middleware "
        "went in; under load, requests queue for seconds.",
        f"{N} GET /reports/{{id}} at once within {TOTAL_LIMIT:.0f} s, each still checked with "
        "the permissions service (the upstream), those checks in flight together",
        ("concurrent", "responses", "still-checks", "upstream-concurrency", "loop-free"),
        fx.measure_middleware,
        fx.judge_middleware,
    ),
    _drill(
        "fix-lock-serialises",
        "A cache whose lock makes every city wait for every other",
        "The weather cache works, but on a cold start twenty different cities take six "
        "seconds; the event loop itself looks healthy.",
        f"{N} different cities at once within {TOTAL_LIMIT:.0f} s with their upstream calls "
        "in flight together; asked again, all from the cache (no upstream call)",
        ("concurrent", "responses", "upstream-concurrency", "cached"),
        fx.measure_lock,
        fx.judge_lock,
    ),
    _drill(
        "fix-background-sync-http",
        "Sign-ups that stall after the response",
        "A sign-up answers instantly when alone, but sign-ups arriving 30 ms apart start "
        "taking a third of a second each, and the health check stutters.",
        f"{SIGNUPS} POST /signup, {staggered.INTERVAL * 1000:.0f} ms apart, each answered in "
        f"under {staggered.EACH_LIMIT * 1000:.0f} ms; every sign-up reaches the CRM (the "
        f"upstream) within {staggered.DELIVERY_LIMIT:.0f} s; the loop never blocked over "
        f"{LAG_LIMIT * 1000:.0f} ms",
        ("fast-answers", "responses", "crm-notified", "loop-free"),
        fx.measure_background,
        fx.judge_background,
    ),
    _drill(
        "fix-tiny-executor",
        "Inventory lookups that come back two at a time",
        "Lookups go through the vendor's SDK in a thread pool, so the loop stays free, "
        "yet twenty at once take three seconds.",
        f"{N} GET /inventory/{{id}} at once within {TOTAL_LIMIT:.0f} s, with at least "
        f"{N - 2} calls in flight at the upstream together",
        ("concurrent", "responses", "upstream-concurrency"),
        fx.measure_executor,
        fx.judge_executor,
    ),
    _drill(
        "fix-fanout-throttled",
        "Team digests that the profiles API throttles",
        "Digests of small teams are fine, but a team of twenty gets a 500, and on busy "
        "mornings so do most digests. The profiles API's dashboard shows a wall of 429s.",
        fu.FANOUT_SUMMARY,
        ("responses", "upstream-limit", "burst"),
        fu.measure_fanout,
        fu.judge_fanout,
        fails_on="upstream-limit",
    ),
    _drill(
        "fix-hung-upstream",
        "A price service that stops answering, health check included",
        "Most of the time prices come back in 50 ms. Then the pricing feed has a bad "
        "minute, and the whole service stops answering, even GET /health, until it is "
        "restarted.",
        fu.HUNG_SUMMARY,
        ("deadline", "responses", "cleanup"),
        fu.measure_hung,
        fu.judge_hung,
        fails_on="deadline",
    ),
    SpotFixDrill(
        "fix-lost-on-crash",
        "Confirmations that go missing after a crash",
        "Orders are safe in a job table, and most confirmations go out. But after each crash "
        "of the order service (the OOM killer, twice last week) a few customers never get "
        "theirs, though their orders were accepted and nothing failed in the logs.",
        Exercise(
            id="fix-lost-on-crash",
            title="Confirmations that go missing after a crash",
            summary="the durable-jobs scenario: orders, a SIGKILL mid-send, a restart, then "
            "a SIGTERM; every accepted order emailed, with one Message-ID per order",
            checks=durable_jobs.EXERCISE.checks,
            measure=durable_jobs.measure,
            judge=durable_jobs.judge,
            restartable=True,
        ),
        fails_on="survives-crash",
    ),
    SpotFixDrill(
        "fix-pool-held",
        "Checkouts that time out on a database that is not busy",
        "Since the deploy that added the pricing call, checkouts at the morning rush fail "
        "with 'no database connection free'. The database's own graphs show it idle; the "
        "pricing service is not even slow.",
        Exercise(
            id="fix-pool-held",
            title="Checkouts that time out on a database that is not busy",
            summary=pool_stall.EXERCISE.summary,
            checks=pool_stall.EXERCISE.checks,
            measure=pool_stall.measure,
            judge=pool_stall.judge,
            beside=pool_stall.database,
        ),
        fails_on="held",
    ),
    _drill(
        "fix-relay-never-closes",
        "A chat relay that keeps paying for answers nobody reads",
        "Users close the chat tab mid-answer all the time, and the model provider's bill "
        "counts far more tokens than our users ever receive. Streaming itself looks fine: "
        "tokens arrive on time and the loop is healthy.",
        fs.RELAY_SUMMARY,
        ("tokens", "upstream-closed", "loop-free"),
        fs.measure_relay,
        fs.judge_relay,
        fails_on="upstream-closed",
    ),
]
