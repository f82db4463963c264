"""Every drill by id, and random sessions of them."""

from __future__ import annotations

import random

from autograder.drills import (
    KINDS,
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
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.questions import Question
from autograder.drills.spot_fix import SpotFixDrill

Drill = PredictDrill | SpotFixDrill | Question

_ALL: list[Drill] = [
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
DRILLS: dict[str, Drill] = {d.id: d for d in _ALL}


def pick(n: int, *, seed: int | None = None, kind: str | None = None) -> list[Drill]:
    """``n`` different drills at random (of one kind, if given); the same seed, the same session."""
    pool = [d for d in DRILLS.values() if kind is None or d.kind == kind]
    return random.Random(seed).sample(pool, min(n, len(pool)))


__all__ = ["DRILLS", "KINDS", "Drill", "PredictDrill", "Question", "SpotFixDrill", "pick"]
