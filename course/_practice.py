"""Doing, not only watching: a prediction scored against the live figure, and "your
turn" endpoints graded by the course's grader.

- :func:`score` scores a learner's prediction with the drills' tolerance rules
  (:mod:`autograder.drills.scoring`), against what the notebook just measured.
- :class:`YourTurn` is a small broken app the learner fixes. Its checks are the grader's
  (:mod:`autograder.checks`, through :func:`autograder.grade.grade_async`: the same
  runner, dependency servers, load client, loop probe and diagnosis as a graded
  exercise). The learner's copy lives in ``course/mine/``; the starter in ``apps/``, a
  reference answer in ``_answers/``.

Executed headless (CI sets ``COURSE_REFERENCE=1``), a "your turn" cell grades the
reference answer, so the notebook's run proves the reference passes;
``tests/test_notebooks.py`` proves every untouched starter fails.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from IPython.display import Markdown, display

from autograder import checks, lab
from autograder.checks import Check
from autograder.depservers import weather_body
from autograder.drills.scoring import Score, Tolerance, Value, judge
from autograder.judges import Exercise
from autograder.judges.scenarios import burst_figures, staggered_under_probe
from autograder.load import Request
from autograder.session import Figures, Session
from autograder.verdict import Verdict

COURSE = Path(__file__).resolve().parent
MINE = COURSE / "mine"
REFERENCE = os.environ.get("COURSE_REFERENCE") == "1"

__all__ = ["REFERENCE", "TURNS", "Score", "Tolerance", "YourTurn", "score"]


def score(
    what: str, predicted: Value, measured: Value, *, tolerance: Tolerance | None = None, unit: str = ""
) -> Score:
    """Score ``predicted`` against ``measured`` with the drills' rules (a figure within
    ``tolerance``; words, given as a tuple, in the same order) and show the result."""
    result = judge(predicted, measured, tolerance=tolerance, unit=unit)
    display(Markdown(f"**Your prediction, {what}:** {'✓' if result.passed else '✗'} {result.message}"))
    return result


@dataclass(frozen=True)
class YourTurn:
    id: str
    starter: Path  # what the learner starts from (deliberately broken)
    reference: Path  # one passing answer
    exercise: Exercise

    @property
    def mine(self) -> Path:
        return MINE / f"{self.id}.py"

    def start(self) -> Path:
        """Copy the starter to ``mine/`` unless the learner already has a copy; return it."""
        MINE.mkdir(exist_ok=True)
        if not self.mine.exists():
            shutil.copy(self.starter, self.mine)
            self.mine.chmod(0o644)  # the grader serves it as a user of its own
        return self.mine

    def grade(self, path: str | Path) -> Verdict:
        from autograder.grade import grade_async  # the grader's own entry point

        return lab.run(grade_async(self.exercise, Path(path)), 120)

    def check(self) -> Verdict:
        """Grade the learner's copy (the reference, headless) and show the verdict."""
        path = self.reference if REFERENCE else self.start()
        if REFERENCE:
            print(f"(headless run: grading the reference answer, {path.relative_to(COURSE)})")
        verdict = self.grade(path)
        print(verdict.render())
        return verdict


# -- the scenarios: the grader's shapes and checks, sized for a lesson ----------------------

N = 20
TOTAL_LIMIT = 1.0
LAG_LIMIT = 0.2
GRACE = 0.1


def _loop_free(f: Figures) -> Check:
    return checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes)


def _concurrent(f: Figures, what: str) -> Check:
    return checks.all_finished_within(
        "concurrent", f.requests, TOTAL_LIMIT, waited=f.waited, what=what
    )


# 01: a pot of tea that holds the loop while it brews.
BREW = 0.3


async def measure_brew(s: Session) -> Figures:
    pots = [Request("GET", f"/brew/pot{i}") for i in range(N)]
    return await burst_figures(s, Request("GET", "/brew/warmup"), pots, waited=TOTAL_LIMIT + GRACE)


def judge_brew(f: Figures) -> list[Check]:
    return [
        _concurrent(f, "brews"),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (200, {"pot": r.request.path.rsplit("/", 1)[1], "brewed": True}),
            what="brews",
        ),
        checks.each_took_at_least("still-brews", f.requests, BREW - 0.05),
        _loop_free(f),
    ]


# 02: a trip planner that asks the upstream about two cities.
TRIPS = [("oslo", "lima"), ("cairo", "perth"), ("quito", "hanoi"), ("dakar", "sofia"),
         ("minsk", "tunis"), ("accra", "baku"), ("doha", "riga"), ("rome", "kyiv"),
         ("bern", "male"), ("apia", "suva")] * 2
TRIP_PEAK = 15


async def measure_trip(s: Session) -> Figures:
    trips = [Request("GET", f"/trip/{a}/{b}") for a, b in TRIPS]
    return await burst_figures(
        s, Request("GET", "/trip/here/there"), trips,
        waited=TOTAL_LIMIT + GRACE, reset_deps=True, upstream_peak=True,
    )


def _trip_body(path: str) -> dict[str, object]:
    _, _, a, b = path.split("/")
    return {"from": weather_body(a), "to": weather_body(b)}


def judge_trip(f: Figures) -> list[Check]:
    return [
        _concurrent(f, "trips"),
        checks.bodies_match(
            "responses", f.requests, lambda r: (200, _trip_body(r.request.path)), what="trips"
        ),
        checks.at_least(
            "upstream-concurrency",
            f.extra.get("upstream_peak_in_flight", 0),
            TRIP_PEAK,
            message="the upstream saw at most {value} calls in flight at once while "
            f"{N} trips arrived together (at least {{minimum}} expected)",
        ),
        _loop_free(f),
    ]


# 03: sign-ups whose welcome email is a background task.
SIGNUPS, INTERVAL, EACH_LIMIT, DELIVERY_LIMIT = 10, 0.03, 0.1, 5.0
SIGNUP_WAITED = SIGNUPS * INTERVAL + EACH_LIMIT + 0.4


async def measure_welcome(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    users = [f"u{i}-{tag}" for i in range(SIGNUPS)]
    responses = await staggered_under_probe(
        s,
        Request("POST", f"/signup/warmup-{tag}"),
        [Request("POST", f"/signup/{u}") for u in users],
        interval=INTERVAL,
        give_up_after=SIGNUP_WAITED,
    )
    t_sent = time.monotonic()

    async def welcomed() -> set[str]:
        subjects = {m["subject"] for m in (await s.deps_stats())["smtp"]["messages"]}
        return {u for u in users if f"Welcome, {u}" in subjects}

    async def all_welcomed() -> bool:
        return len(await welcomed()) == len(users)

    await s.wait_until(all_welcomed, wait_at_most=DELIVERY_LIMIT - (time.monotonic() - t_sent))
    loop = await s.stop_loop_probe()
    return s.figures(
        requests=responses,
        waited=SIGNUP_WAITED,
        loop=loop,
        extra={"welcomed": len(await welcomed()), "signups": len(users)},
    )


def judge_welcome(f: Figures) -> list[Check]:
    return [
        checks.each_answered_within(
            "fast-answers", f.requests, EACH_LIMIT,
            what=f"sign-ups sent {INTERVAL * 1000:.0f} ms apart",
        ),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (202, {"welcome": r.request.path.rsplit("/", 1)[1]}),
            what="sign-ups",
        ),
        checks.at_least(
            "welcomed",
            f.extra.get("welcomed", 0),
            f.extra.get("signups", SIGNUPS),
            message="{value} of {minimum:.0f} welcome emails reached the SMTP server "
            f"within {DELIVERY_LIMIT:.0f} s",
        ),
        _loop_free(f),
    ]


def _turn(id: str, exercise: Exercise) -> YourTurn:
    number, name = id.split("-", 1)
    return YourTurn(
        id=id,
        starter=COURSE / "apps" / f"nb{number}_{name}_starter.py",
        reference=COURSE / "_answers" / f"{id}.py",
        exercise=exercise,
    )


TURNS: dict[str, YourTurn] = {
    t.id: t
    for t in (
        _turn("01-brew", Exercise(
            id="01-brew",
            title="Twenty pots of tea, brewed one after another",
            summary=f"{N} GET /brew/{{pot}} at once within {TOTAL_LIMIT:.0f} s, each still "
            f"brewing {BREW} s, the loop never blocked over {LAG_LIMIT * 1000:.0f} ms",
            checks=("concurrent", "responses", "still-brews", "loop-free"),
            measure=measure_brew,
            judge=judge_brew,
        )),
        _turn("02-trip", Exercise(
            id="02-trip",
            title="A trip planner that plans one trip at a time",
            summary=f"{N} GET /trip/{{a}}/{{b}} at once within {TOTAL_LIMIT:.0f} s, their "
            f"upstream calls in flight together, the loop never blocked",
            checks=("concurrent", "responses", "upstream-concurrency", "loop-free"),
            measure=measure_trip,
            judge=judge_trip,
        )),
        _turn("03-welcome", Exercise(
            id="03-welcome",
            title="Sign-ups that freeze while the welcome email goes out",
            summary=f"{SIGNUPS} POST /signup/{{user}}, {INTERVAL * 1000:.0f} ms apart, each "
            f"answered in under {EACH_LIMIT * 1000:.0f} ms, every welcome email delivered, "
            "the loop never blocked",
            checks=("fast-answers", "responses", "welcomed", "loop-free"),
            measure=measure_welcome,
            judge=judge_welcome,
        )),
    )
}
