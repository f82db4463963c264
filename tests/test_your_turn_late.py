"""The "your turn" apps of notebooks 04-06: each starter fails the grader's checks it
is about, and each reference answer passes them."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import ROOT

EXPECTED_FAILURE = {"04-stock": "upstream-concurrency", "05-scores": "health-fast", "06-prices": "loop-free"}


def load_turns():
    sys.path.insert(0, str(ROOT / "course"))
    try:
        import _practice_late
    finally:
        sys.path.remove(str(ROOT / "course"))
    return _practice_late.TURNS


def test_each_late_turn_has_a_starter_a_reference_and_a_notebook():
    turns = load_turns()
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "course" / "_src").glob("*.py"))
    for turn_id in EXPECTED_FAILURE:
        turn = turns[turn_id]
        assert turn.starter.is_file() and turn.reference.is_file(), turn_id
        assert f'TURNS["{turn_id}"]' in sources, f"no notebook uses {turn_id}"


@pytest.mark.slow
@pytest.mark.parametrize("turn_id", sorted(EXPECTED_FAILURE))
def test_late_turn_fails_untouched_and_passes_the_reference(turn_id):
    from autograder import lab

    turn = load_turns()[turn_id]
    try:
        untouched = turn.grade(turn.starter)
        assert not untouched.passed, untouched.render()
        assert EXPECTED_FAILURE[turn_id] in untouched.failed, untouched.render()
        reference = turn.grade(turn.reference)
        assert reference.passed, reference.render()
    finally:
        lab.close()
