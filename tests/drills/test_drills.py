"""The interview drills: their catalogue, scoring, command line, and live behaviour.

Fast tests check the catalogue and the pure scoring. Slow tests serve real snippets:
each predict drill's reference answer must land within the drill's own tolerance of a
live measurement (drills sharing a snippet share one serve); each spot-and-fix starter
must fail the grader and its reference fix pass; the CLI is driven with answers on stdin.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
import sys
from collections import defaultdict

import pytest

from autograder import lab
from autograder.drills import (
    fix_scenarios,
    predict,
    predict_jobs,
    predict_lifecycle,
    predict_limits,
    predict_stalls,
    predict_streams,
    predict_ws,
    questions,
    questions_production,
    questions_ws,
    spot_fix,
    spot_fix_ws,
)
from autograder.drills.catalog import DRILLS, pick
from autograder.drills.predict import PredictDrill, score
from autograder.drills.scoring import Tolerance, judge, parse_value
from autograder.drills.show import text_timeline
from autograder.lab import Burst
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures
from autograder.servers.process import weather_body
from tests.conftest import ROOT


def drill_cli(*args: str, answers: str = "", wait_at_most: float = 120):
    """``python -m autograder drill ARGS`` with ``answers`` on stdin, as a learner would."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", "drill", *args],
        input=answers,
        capture_output=True,
        text=True,
        timeout=wait_at_most,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def wrong_answer(d: PredictDrill) -> str:
    ref = d.reference()
    return "nothing at all" if isinstance(ref, tuple) else str(ref * 10 + 100)


# -- the catalogue ------------------------------------------------------------------------------


def test_there_are_enough_drills_of_each_kind():
    assert len(predict.DRILLS) >= 12
    assert len(spot_fix.DRILLS) >= 6
    assert len(questions.DRILLS) >= 6
    every = [
        *predict.DRILLS,
        *predict_stalls.DRILLS,
        *predict_limits.DRILLS,
        *predict_lifecycle.DRILLS,
        *predict_jobs.DRILLS,
        *predict_streams.DRILLS,
        *predict_ws.DRILLS,
        *spot_fix.DRILLS,
        *spot_fix_ws.DRILLS,
        *questions.DRILLS,
        *questions_production.DRILLS,
        *questions_ws.DRILLS,
    ]
    assert len(DRILLS) == len(every)  # each listed once, no two sharing an id


def test_every_drill_has_its_files():
    for d in predict.DRILLS:
        assert d.path.is_file(), d.id
    for d in spot_fix.DRILLS:
        assert d.starter.is_file() and d.reference.is_file(), d.id
        assert d.exercise.id == d.id and d.time_limit > 0


def test_every_question_cites_figures_that_a_drill_measures():
    for q in [*questions.DRILLS, *questions_production.DRILLS]:
        assert q.cited(), f"{q.id} cites no drill"
        kinds = {DRILLS[i].kind for i in q.cited()}
        assert "predict" in kinds and kinds <= {"predict", "fix"}, q.id
        answer = q.model_answer()
        assert "{cite:" not in answer
        assert "python -m autograder drill predict-" in answer


def test_a_spot_fix_citation_names_the_drill_and_its_command():
    q = next(q for q in questions_production.DRILLS if "fix-hung-upstream" in q.cited())
    answer = q.model_answer()
    fix = DRILLS["fix-hung-upstream"]
    assert f"'{fix.title}' (`python -m autograder drill fix-hung-upstream`)" in answer


def test_the_production_questions_cover_what_the_drills_lacked():
    topics = {q.id for q in questions_production.DRILLS}
    assert topics == {
        "q-upstream-rate-limit",
        "q-fan-out-siblings",
        "q-timeouts-threads",
        "q-graceful-shutdown",
        "q-create-task-vanishes",
        "q-db-pool-session",
        "q-find-blocking-line",
        "q-p99-after-deploy",
        "q-sse-clients-per-worker",
    }


def _drill_imports(path) -> set[str]:
    """The ``autograder.drills`` modules ``path`` imports, anywhere in it (lazy ones too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.rsplit(".", 1)[-1] for n in names if n.startswith("autograder.drills.")}
    return found


def test_the_drill_modules_import_no_circle():
    package = ROOT / "autograder" / "drills"
    graph = {p.stem: _drill_imports(p) for p in package.glob("*.py") if p.stem != "__init__"}
    graph = {m: {i for i in imports if i in graph} for m, imports in graph.items()}
    assert all("terminal" not in i for i in graph.values()), "only the CLI imports the drills"

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(
            n == target or (n not in seen and reaches(n, target, seen | {n})) for n in graph[start]
        )

    assert [m for m in graph if reaches(m, m, {m})] == []


def test_a_seed_picks_the_same_session():
    a = [d.id for d in pick(5, seed=7)]
    assert a == [d.id for d in pick(5, seed=7)] and len(set(a)) == 5
    assert {d.kind for d in pick(50, seed=1, kind="fix")} == {"fix"}


# -- scoring (pure) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.3", 0.3),
        ("300ms", 0.3),
        ("1.2 s", 1.2),
        (" 40 ", 40.0),
        (".5", 0.5),
        ("2 requests", 2.0),
        ("40 in flight", 40.0),
        ("1 core", 1.0),
    ],
)
def test_numbers_parse(text, value):
    assert parse_value(text, words=False) == pytest.approx(value)


def test_words_parse_in_order_and_none_is_empty():
    assert parse_value("Receipt, metrics > cleanup", words=True) == (
        "receipt",
        "metrics",
        "cleanup",
    )
    assert parse_value("none", words=True) == ()
    with pytest.raises(ValueError):
        parse_value("about a second", words=False)


def test_tolerance_is_the_larger_bound():
    t = Tolerance(absolute=0.15, relative=0.3)
    assert t.allowed(0.2) == pytest.approx(0.15)
    assert t.allowed(2.0) == pytest.approx(0.6)
    assert "30 %" in t.describe("s") and "0.15 s" in t.describe("s")


def test_a_prediction_is_scored_against_the_measurement():
    d = predict.DRILLS[0]
    assert score(d, 0.4, 0.34).passed
    assert not score(d, 2.0, 0.34).passed
    assert not score(d, 0.3, math.nan).passed
    words = next(x for x in predict.DRILLS if x.tolerance is None)
    assert score(words, ("a", "b"), ("a", "b")).passed
    assert not score(words, ("b", "a"), ("a", "b")).passed


def test_judge_needs_no_drill():
    seconds = Tolerance(absolute=0.15, relative=0.3)
    inside = judge(1.2, 1.0, tolerance=seconds, unit="s")
    assert inside.passed and inside.allowed == pytest.approx(0.3)
    assert "off by 0.20 s, allowed 0.30 s: within" in inside.message
    outside = judge(1.4, 1.0, tolerance=seconds, unit="s")
    assert not outside.passed and "outside the tolerance" in outside.message
    assert judge(40.0, 41.0, tolerance=Tolerance(absolute=2), unit="in flight").passed
    assert not judge(("a",), ("a", "b"), tolerance=None, unit="").passed


def test_text_timeline_draws_a_staircase():
    t = 100.0
    responses = [
        Response(Request("GET", "/"), start=t, end=t + 0.2 * (i + 1), status=200) for i in range(5)
    ]
    drawn = text_timeline(Burst(responses, [], t, t + 1.0), width=20).splitlines()
    bars = [line.count("█") for line in drawn[:-1]]
    assert bars == sorted(bars) and bars[0] < bars[-1] == 20


def _answered(path: str, seconds: float, body: bytes) -> Response:
    return Response(Request("GET", path), start=0.0, end=seconds, status=200, body=body)


def test_a_cache_drill_fails_when_the_second_round_calls_the_upstream():
    first = tuple(
        _answered(f"/weather/c{i}", 0.35, json.dumps(weather_body(f"c{i}")).encode())
        for i in range(fix_scenarios.N)
    )
    cold = {"upstream_peak_in_flight": fix_scenarios.N, "second_round_answered": fix_scenarios.N}
    cached = fix_scenarios.judge_lock(
        Figures(requests=first, waited=1.1, extra={**cold, "second_round_upstream_calls": 0})
    )
    assert all(c.passed for c in cached), cached
    uncached = fix_scenarios.judge_lock(
        Figures(requests=first, waited=1.1, extra={**cold, "second_round_upstream_calls": 20})
    )
    assert [c.name for c in uncached if not c.passed] == ["cached"]
    assert "made 20 upstream calls" in uncached[-1].message
    skipped = fix_scenarios.judge_lock(
        Figures(requests=first, waited=1.1, extra={"upstream_peak_in_flight": 1})
    )
    assert {c.name for c in skipped if not c.passed} == {"upstream-concurrency", "cached"}


# -- the command line, no server needed -----------------------------------------------------------


def test_list_prints_one_line_per_drill():
    done = drill_cli("--list")
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines()] == list(DRILLS)


@pytest.mark.parametrize(
    ("args", "reason"),
    [([], "give a drill ID"), (["no-such-drill"], "unknown drill"), (["--random", "0"], "N >= 1")],
)
def test_usage_errors_exit_2(args, reason):
    done = drill_cli(*args)
    assert done.returncode == 2 and reason in done.stderr


def test_a_question_reads_the_answer_and_the_self_check_from_stdin():
    covered = drill_cli("q-lock", answers="a lock held across the await\nserialises\n\ny\n")
    assert covered.returncode == 0, covered.stdout + covered.stderr
    assert "model answer:" in covered.stdout and "score: 1/1" in covered.stdout
    missed = drill_cli("q-lock", answers="no idea\n\nn\n")
    assert missed.returncode == 1 and "score: 0/1" in missed.stdout


# -- live ---------------------------------------------------------------------------------------

BY_SNIPPET: dict[str, list[PredictDrill]] = defaultdict(list)
for _d in predict.DRILLS:
    BY_SNIPPET[_d.snippet].append(_d)


@pytest.mark.slow
@pytest.mark.parametrize("snippet", sorted(BY_SNIPPET))
def test_reference_answers_hold_live(snippet):
    """One serve per snippet; each of its drills measures afresh and scores its reference."""
    with lab.serve(predict.SNIPPETS / snippet) as app:
        results = [(d, d.score(d.reference(), d.measure(app))) for d in BY_SNIPPET[snippet]]
    for d, s in results:
        assert s.passed, f"{d.id}: {s.message}"


@pytest.mark.slow
@pytest.mark.parametrize("drill", spot_fix.DRILLS, ids=lambda d: d.id)
def test_starter_fails_and_reference_fix_passes(drill):
    broken = drill.grade(drill.starter)
    assert not broken.passed and "serves" not in broken.failed, broken.render()
    assert not drill.fails_on or drill.fails_on in broken.failed, broken.render()
    fixed = drill.grade(drill.reference)
    assert fixed.passed, fixed.render()


@pytest.mark.slow
def test_a_random_session_driven_from_stdin_is_scored():
    chosen = pick(3, seed=11, kind="predict")
    answers = [chosen[0].reference_text(), chosen[1].reference_text(), wrong_answer(chosen[2])]
    done = drill_cli(
        "--random", "3", "--seed", "11", "--kind", "predict", answers="\n".join(answers) + "\n"
    )
    assert re.findall(r"^== ([\w-]+):", done.stdout, re.M) == [d.id for d in chosen]
    assert done.stdout.count("measured:") == 3
    assert "session score: 2/3" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 1


@pytest.mark.slow
def test_a_fix_drill_grades_the_path_given_on_stdin(tmp_path):
    d = spot_fix.DRILLS[0]
    done = drill_cli(d.id, "--workdir", str(tmp_path), answers=f"{d.reference}\n")
    assert "clock: 10:00" in done.stdout and "time used:" in done.stdout
    assert "PASSED" in done.stdout and "score: 1/1" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0
    assert (tmp_path / f"{d.id.replace('-', '_')}.py").read_text() == d.starter.read_text()
