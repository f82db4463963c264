"""Spot-and-fix drills on WebSockets, judged by the ``ws-broadcast`` exercise's checks.

Like ``fix-lost-on-crash`` and ``fix-pool-held`` in :mod:`autograder.drills.spot_fix`, a
drill here reuses a graded exercise's scenario and judge under an id of its own: the
``ws-broadcast`` scenario (a member that stops reading, thirty that keep up, one that
vanishes) with its limits, read from :mod:`autograder.judges.ws_broadcast`.
"""

from __future__ import annotations

from autograder.drills.spot_fix import SpotFixDrill
from autograder.judges import Exercise
from autograder.judges import ws_broadcast as wb

DRILLS: list[SpotFixDrill] = [
    SpotFixDrill(
        "fix-room-keeps-dead-member",
        "A live-score room that never lets go of a fan who stopped reading",
        "Since the send deadline went in, a phone in a tunnel no longer freezes a match's "
        "updates, and the log says 'update skipped' a lot. But fans who come out of the "
        "tunnel see a score that jumps, with goals missing from the feed, and nothing tells "
        "them they missed anything.",
        Exercise(
            id="fix-room-keeps-dead-member",
            title="A live-score room that never lets go of a fan who stopped reading",
            summary=wb.EXERCISE.summary,
            checks=wb.EXERCISE.checks,
            measure=wb.measure,
            judge=wb.judge,
        ),
        fails_on="stalled-dropped",
    ),
]
