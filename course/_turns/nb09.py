"""The "your turn" of notebook 09, graded by the course's grader.

- ``09-relay``: the ``token-stream`` exercise's own starter (not a copy: the learner's
  file starts as ``exercises/token-stream/starter.py``), a chat relay reading the model
  with a sync client inside an ``async def`` generator; graded by the exercise's own
  scenario and checks (60 streams, 20 clients that leave). The reference answer is the
  exercise's ``solutions/token-stream/async_client.py``.
- ``09-room``: the ``ws-broadcast`` exercise's own starter, a WebSocket room whose
  broadcast awaits each member's send in turn; graded by the exercise's scenario and
  checks (30 members that keep up, one that stops reading, one that vanishes). The
  reference answer is ``solutions/ws-broadcast/queue_per_member.py``.
"""

from __future__ import annotations

from _practice import COURSE, YourTurn

from autograder.judges import token_stream, ws_broadcast

ROOT = COURSE.parent

TURNS: tuple[YourTurn, ...] = (
    YourTurn(
        id="09-relay",
        starter=ROOT / "exercises" / "token-stream" / "starter.py",
        reference=ROOT / "solutions" / "token-stream" / "async_client.py",
        exercise=token_stream.EXERCISE,
        fails_on="first-token",
    ),
    YourTurn(
        id="09-room",
        starter=ROOT / "exercises" / "ws-broadcast" / "starter.py",
        reference=ROOT / "solutions" / "ws-broadcast" / "queue_per_member.py",
        exercise=ws_broadcast.EXERCISE,
        fails_on="latency",
    ),
)
