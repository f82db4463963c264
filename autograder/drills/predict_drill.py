"""A predict-then-measure drill: a snippet, a load, a figure to guess, and the measurement.

The drill serves its snippet from ``snippets/predict/`` with :func:`autograder.lab.serve`
(the grader's runner: its own process, beside the dependency servers), sends the load
from outside and reads one figure (:mod:`autograder.drills.measures`). The learner's
prediction is scored against that measurement, never against an answer key
(:mod:`autograder.drills.scoring`); the reference answer is only what an expert would
say, and the tests check that it lands within the drill's own tolerance of a live run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder import lab
from autograder.drills.measures import Measure, Measurement
from autograder.drills.scoring import Score, Tolerance, Value, format_value, judge, parse_value

SNIPPETS = Path(__file__).resolve().parent / "snippets" / "predict"


@dataclass(frozen=True)
class PredictDrill:
    id: str
    title: str
    topic: str
    snippet: str  # file name in snippets/predict/
    load: str  # the load, in words
    question: str  # the figure to predict, in words
    unit: str  # "s", "in flight", "cores", or "" for a list of words
    reference: Callable[[], Value]  # what an expert predicts (may depend on os.cpu_count())
    tolerance: Tolerance | None  # None: words, compared exactly
    measure: Measure
    explanation: str  # two sentences: why the figure is what it is
    kind: str = "predict"
    restartable: bool = False  # the measure crashes the snippet and starts it again

    @property
    def path(self) -> Path:
        return SNIPPETS / self.snippet

    def source(self) -> str:
        return self.path.read_text()

    def prompt(self) -> str:
        how = (
            "type the words in order, separated by spaces (or 'none')"
            if self.tolerance is None
            else f"scored within {self.tolerance.describe(self.unit)} of the measurement"
        )
        return f"Load: {self.load}\nPredict: {self.question} ({how})"

    def reference_text(self) -> str:
        return format_value(self.reference(), self.unit)

    def parse(self, text: str) -> Value:
        return parse_value(text, words=self.tolerance is None)

    def run(self) -> Measurement:
        """Serve the snippet, send the load, measure (about 1-3 s)."""
        with lab.serve(self.path, restartable=self.restartable) as app:
            return self.measure(app)

    def score(self, predicted: Value, measured: Measurement) -> Score:
        return score(self, predicted, measured.value)


def score(drill: PredictDrill, predicted: Value, measured: Value) -> Score:
    """Score a prediction against the live measurement, within the drill's tolerance."""
    return judge(predicted, measured, tolerance=drill.tolerance, unit=drill.unit)
