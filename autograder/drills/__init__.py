"""Interview drills: short, timed, self-checking, on the grader's engine.

Three kinds:

- ``predict``: a snippet and a load; predict a figure, then the drill measures it live
  and scores the prediction against the measurement (not an answer key). The record is
  ``predict_drill``, the catalogue ``predict``, the figures ``measures``, the tolerance
  rules ``scoring`` (light: the notebooks score predictions with it too).
- ``fix`` (``spot_fix``): a broken endpoint under a clock; the fix is graded by the
  course's grader. The record and catalogue are ``spot_fix``, the scenarios and judges
  ``fix_scenarios`` (with the graded exercises' limits and scenario shapes).
- ``question`` (``questions``): the classic interview questions, with model answers that
  cite figures the learner can rerun.

``catalog`` holds them all (``DRILLS``: id to drill); ``terminal`` is the command line
(``python -m autograder drill``), kept light to import; ``show`` draws what a drill
measured. This package's ``__init__`` imports nothing: the command line reads ``KINDS``
without loading the engine.
"""

KINDS = ("predict", "fix", "question")
