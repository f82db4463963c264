"""The course's "doing" helpers (``course/_practice.py``), without a server: how a
prediction is scored and shown, and what a turn shows a learner who is stuck."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ROOT


@pytest.fixture
def practice(monkeypatch):
    """``_practice`` with ``display`` captured: the Markdown texts it would show."""
    monkeypatch.syspath_prepend(str(ROOT / "course"))
    import _practice

    shown: list[Any] = []
    monkeypatch.setattr(_practice, "display", shown.append)
    return _practice, shown


def test_a_prediction_not_made_is_not_scored(practice):
    _practice, shown = practice
    result = _practice.score("all 20 answered", None, 2.04, tolerance=_practice.Tolerance(0.2), unit="s")
    assert result is None  # a cell ending in score(...) echoes nothing more
    (text,) = [m.data for m in shown]
    assert text.startswith("**Your prediction, all 20 answered:** not made yet (measured: 2.04 s)")
    assert "✓" not in text and "✗" not in text
    assert "`None`" in text  # says what to replace


def test_a_prediction_not_made_says_when_nothing_was_measured(practice):
    _practice, shown = practice
    _practice.score("recovery", None, float("nan"), tolerance=_practice.Tolerance(0.2), unit="s")
    assert "not made yet (nothing was measured)" in shown[0].data


@pytest.mark.parametrize(
    ("predicted", "mark", "within"), [(2.0, "✓", "within"), (0.2, "✗", "outside")]
)
def test_a_prediction_made_is_scored_against_the_measurement(practice, predicted, mark, within):
    _practice, shown = practice
    assert _practice.score("all 20", predicted, 2.04, tolerance=_practice.Tolerance(0.2), unit="s") is None
    text = shown[0].data
    assert text.startswith(f"**Your prediction, all 20:** {mark} measured: 2.04 s; you said: ")
    assert f"{within} the tolerance" in text


def test_words_are_scored_in_order(practice):
    _practice, shown = practice
    _practice.score("tasks", ("1", "2"), ("1", "2"))
    _practice.score("tasks", ("2", "1"), ("1", "2"))
    assert [m.data.split(":** ")[1][0] for m in shown] == ["✓", "✗"]


def test_no_notebook_uses_what_score_returns():
    sources = (ROOT / "course" / "_src").glob("*.py")
    for source in sources:
        for line in source.read_text(encoding="utf-8").splitlines():
            assert "= score(" not in line, f"{source.name}: {line.strip()}"



def test_show_answer_shows_the_reference_as_read_only_code(practice):
    _practice, shown = practice
    from IPython.display import Code

    from tests.course.test_notebooks import load_turns

    turn = load_turns()["01-brew"]
    turn.show_answer()
    code = [o for o in shown if isinstance(o, Code)]
    assert len(code) == 1 and code[0].data == turn.reference.read_text(encoding="utf-8")


def test_stuck_shows_the_answer_in_the_notebook_not_as_a_file_to_open():
    """A link to ``_answers/`` opens the answer in an editor tab titled like the learner's
    file; each "Stuck?" names a call that shows it read-only, on a name the notebook has."""
    sources = sorted((ROOT / "course" / "_src").glob("[0-9][0-9]_*.py"))
    stuck = 0
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert "](_answers/" not in text, f"{source.name} links to an answer file"
        for call in re.findall(r"Stuck\? Run `([a-z_]+)\.show_answer\(\)`", text):
            assert re.search(rf"^{call} = TURNS\[", text, re.M), f"{source.name}: no {call}"
            stuck += 1
        if "Stuck? Run `show_answer(ANSWER)`" in text:
            assert "import MINE, REFERENCE, show_answer" in text and "\nANSWER = " in text
            stuck += 1
    assert stuck == 12  # notebooks 01-09 (07 twice: the dashboard and the orders; 09 twice: the relay and the room) and the capstone
