"""The diagnosis reads the watchdog's stack samples (synthetic here) and names the line
that held the event loop, only when the samples of a stall agree on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.measure import diagnosis
from autograder.measure.diagnosis import diagnose, source_line, stalls

APP = """\
import time

async def report():
    time.sleep(0.3)  # the blocking call
    return {"status": "ok"}

def other():
    return sum(range(10))
"""


@pytest.fixture
def app_file(tmp_path: Path) -> str:
    path = tmp_path / "starter.py"
    path.write_text(APP)
    return str(path)


def samples(
    stall: int, since: float, lines: list[int | None], *, func: str = "report"
) -> list[dict]:
    """One stall's samples, 10 ms apart from ``since`` + 50 ms (the watchdog's rhythm)."""
    return [
        {
            "kind": "stall_sample",
            "stall": stall,
            "since": since,
            "t": since + 0.05 + 0.01 * i,
            "line": line,
            "func": func if line is not None else None,
            "innermost": "time.py:1 in sleep" if line is not None else "selectors.py:468 in select",
        }
        for i, line in enumerate(lines)
    ]


def test_a_stall_whose_samples_agree_names_the_line_and_quotes_it(app_file: str):
    report = samples(1, 10.0, [4] * 25) + [{"kind": "lag", "t": 10.3, "lag": 0.29}]
    found = diagnose(report, app_file, outside_lag=0.3)
    assert found == "starter.py:4 in report: time.sleep(0.3)"


def test_no_diagnosis_when_the_loop_was_never_blocked_past_the_limit(app_file: str):
    report = samples(1, 10.0, [4] * 5)  # a 90 ms stall
    assert diagnose(report, app_file, outside_lag=0.05, limit=0.2) is None


def test_the_outside_lag_alone_can_call_for_a_diagnosis(app_file: str):
    found = diagnose([], app_file, outside_lag=0.8)
    assert found is not None
    assert "800 ms (seen from outside)" in found and "no stack sample" in found


def test_spread_samples_blame_no_line(app_file: str):
    lines: list[int | None] = [4, None, 8, None, 4, None, 8, None, None, None] * 3
    found = diagnose(samples(1, 10.0, lines), app_file, outside_lag=0.4)
    assert found is not None
    assert "no single line of starter.py held it" in found
    assert "selectors.py:468 in select" in found  # where most samples were


def test_agreement_needs_most_of_a_stalls_samples():
    agreeing = diagnosis.Stall(
        0.3, tuple((4, "report", "x") for _ in range(6)) + ((None, None, "y"),) * 4
    )
    assert agreeing.agreed_line() == (4, "report")
    split = diagnosis.Stall(
        0.3, tuple((4, "report", "x") for _ in range(5)) + ((None, None, "y"),) * 5
    )
    assert split.agreed_line() is None
    assert diagnosis.Stall(0.0, ()).agreed_line() is None


def test_the_line_that_held_the_loop_longest_in_all_wins(app_file: str):
    # Two short stalls on line 8 (0.16 s each) against one longer one on line 4 (0.25 s).
    report = (
        samples(1, 1.0, [8] * 12, func="other")
        + samples(2, 2.0, [8] * 12, func="other")
        + samples(3, 3.0, [4] * 21)
    )
    assert diagnose(report, app_file, outside_lag=0.3).startswith("starter.py:8 in other")


def test_samples_before_since_are_start_up_not_the_request_path(app_file: str):
    report = samples(1, 1.0, [8] * 30, func="other") + samples(2, 5.0, [4] * 30)
    assert stalls(report, since=4.0)[0].samples[0][0] == 4
    assert diagnose(report, app_file, outside_lag=None, since=4.0).startswith("starter.py:4 ")


def test_stalls_are_grouped_and_timed_from_the_last_heartbeat():
    report = samples(1, 1.0, [4] * 10) + samples(2, 2.0, [8] * 3) + [{"kind": "lag", "t": 3.0}]
    found = {round(s.duration, 3): len(s.samples) for s in stalls(report)}
    assert found == {0.14: 10, 0.07: 3}


def test_source_line_drops_a_trailing_comment_but_keeps_hashes_in_strings(tmp_path: Path):
    path = tmp_path / "m.py"
    path.write_text('x = "#not a comment"  # a comment\ny = (1 +\n')
    assert source_line(str(path), 1) == 'x = "#not a comment"'
    assert source_line(str(path), 2) == "y = (1 +"  # unfinished code: kept as written


def test_source_line_reads_the_file_as_saved_now(tmp_path: Path):
    """A kernel grades the learner's file after each edit: no cache may keep the old text."""
    path = tmp_path / "mine.py"
    path.write_text("import time\ntime.sleep(0.3)\n")
    assert source_line(str(path), 2) == "time.sleep(0.3)"
    path.write_text("import asyncio\n\nawait asyncio.sleep(0.3)\n")
    assert source_line(str(path), 2) == ""
    assert source_line(str(path), 3) == "await asyncio.sleep(0.3)"
    assert source_line(str(tmp_path / "gone.py"), 1) == ""
