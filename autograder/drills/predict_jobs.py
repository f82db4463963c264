"""Predict drills on jobs that must survive a crash: how many accepted orders still get
their email when the service is killed mid-work and started again.

Same record and scoring as the other predict drills (``PredictDrill``), served
restartable; the figure is counted at the SMTP server (:mod:`~autograder.drills.measures_crash`).
"""

from __future__ import annotations

from autograder.drills.measures_crash import delivered_after_crash
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.scoring import Tolerance

ORDERS = 20
KILL_AFTER = 1.05  # s: three rounds of two 0.3 s sends done, the fourth in flight
LOAD = (
    f"{ORDERS} POST /orders/{{id}} at once; each email takes 0.3 s at the SMTP server, two "
    f"at a time; SIGKILL {KILL_AFTER} s later, then the same file started again"
)

DRILLS: list[PredictDrill] = [
    PredictDrill(
        id="predict-crash-bgtasks",
        title="a crash while BackgroundTasks send the emails",
        topic="durable jobs",
        snippet="crash_bgtasks.py",
        load=LOAD,
        question=f"how many of the {ORDERS} accepted orders get their email in the end",
        unit="orders",
        reference=lambda: 6.0,
        tolerance=Tolerance(absolute=1),
        measure=delivered_after_crash(ORDERS, KILL_AFTER),
        explanation="Three rounds of two sends finished before the kill: 6 emails. The two "
        "being sent and the twelve waiting lived only in the process's memory; the "
        "restarted service knows nothing of them. A 202 was a promise nothing kept.",
        restartable=True,
    ),
    PredictDrill(
        id="predict-crash-huey",
        title="a crash while huey (SQLite) sends the emails",
        topic="durable jobs",
        snippet="crash_huey.py",
        load=LOAD,
        question=f"how many of the {ORDERS} accepted orders get their email in the end",
        unit="orders",
        reference=lambda: 18.0,
        tolerance=Tolerance(absolute=1),
        measure=delivered_after_crash(ORDERS, KILL_AFTER),
        explanation="The twelve still queued were in SQLite and run after the restart, but "
        "huey deletes a task from its queue when a worker takes it: the two being sent at the "
        "kill are gone. Durable until dequeued is not at least once; a lease (or a broker "
        "that acknowledges after the work) keeps them.",
        restartable=True,
    ),
]

__all__ = ["DRILLS"]
