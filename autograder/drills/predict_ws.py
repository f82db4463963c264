"""Predict drills on WebSocket rooms: a member that stops reading, and a fleet of replicas.

Data only, like :mod:`autograder.drills.predict`; the figures are counted at the members,
outside the app (:mod:`autograder.drills.measures_ws`). The broadcast drills have a member
that never reads join first, with small socket buffers (``STALLED_SOCKET`` in
:mod:`autograder.measure.streams`: as on a real network, not loopback's megabytes); the
fleet drills serve the same file twice beside one real ``redis-server``
(:mod:`autograder.servers.brokers`), which is what :class:`BrokerDrill` adds to a drill.
"""

from __future__ import annotations

from autograder.drills.measures import Measurement
from autograder.drills.measures_ws import replicas_reached, served_with_broker, stalled_broadcast
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.scoring import Tolerance

READERS = 5
MESSAGES = 40
SIZE = 32 * 1024  # characters per message
RATE = 40.0  # messages per second
PER_REPLICA = 3
# What a member that never reads absorbs before the server's send to it waits: the measured
# figure (the kernel's buffers on both sides, the client library's read-ahead, then asyncio's
# 64 KiB write buffer), the same in every run on Linux for 32 KiB messages with STALLED_SOCKET.
ABSORBED = 13


class BrokerDrill(PredictDrill):
    """A predict drill whose snippet is served with a private ``redis-server`` (its
    ``REDIS_URL``); the measure may serve a second replica beside it."""

    def run(self) -> Measurement:
        with served_with_broker(self.path) as app:
            return self.measure(app)


_BROADCAST_LOAD = (
    f"a member that never reads joins the room first (small socket buffers, as on a real "
    f"network), then {READERS} members that keep reading; {MESSAGES} messages of "
    f"{SIZE // 1024} KiB are posted, {RATE:.0f} per second, each POST on its own connection"
)
_FLEET_LOAD = (
    f"the same file served as two replicas, A and B, sharing one redis-server; "
    f"{PER_REPLICA} members join room r on A and {PER_REPLICA} on B; one message is posted "
    "to room r on A"
)

DRILLS: list[PredictDrill] = [
    PredictDrill(
        id="predict-ws-stalled-reader",
        title="a broadcast that awaits each member's send in turn, one member stops reading",
        topic="WebSockets",
        snippet="ws_broadcast_sequential.py",
        load=_BROADCAST_LOAD,
        question=f"how many of the {MESSAGES} messages a member that keeps reading receives "
        "(by 1.5 s after the last post)",
        unit="messages",
        reference=lambda: float(ABSORBED),
        tolerance=Tolerance(absolute=3),
        measure=stalled_broadcast(READERS, MESSAGES, SIZE, RATE),
        explanation="uvicorn's send returns once the frame is handed to the transport: the "
        "kernel's socket buffers (both ends) and the client's read-ahead take the first, then "
        "asyncio's write buffer; once that holds over 64 KiB, send waits until it drains, with "
        "no deadline. The loop meets the stalled member first, so each later message waits "
        "there, for everyone: a dozen get through, then none, and the later POSTs hang with them.",
    ),
    PredictDrill(
        id="predict-ws-queued-reader",
        title="a bounded queue and a sender task per member, one member stops reading",
        topic="WebSockets",
        snippet="ws_broadcast_queued.py",
        load=_BROADCAST_LOAD,
        question=f"how many of the {MESSAGES} messages a member that keeps reading receives "
        "(by 1.5 s after the last post)",
        unit="messages",
        reference=lambda: float(MESSAGES),
        tolerance=Tolerance(absolute=3),
        measure=stalled_broadcast(READERS, MESSAGES, SIZE, RATE),
        explanation="Publishing only puts the message in each member's queue: no POST waits "
        "for a socket. The stalled member's sender waits alone; once its queue of 8 is full "
        "it leaves the room, and the readers get all 40, in order.",
    ),
    BrokerDrill(
        id="predict-ws-replicas-in-memory",
        title="rooms in a dict, served as two replicas",
        topic="WebSockets at scale",
        snippet="ws_broadcast_sequential.py",
        load=_FLEET_LOAD,
        question=f"how many of the {2 * PER_REPLICA} members receive the message",
        unit="members",
        reference=lambda: float(PER_REPLICA),
        tolerance=Tolerance(absolute=0.5),
        measure=replicas_reached(PER_REPLICA),
        explanation="Each replica is a process of its own, and a dict of rooms lives in one "
        "process: A sends to the members connected to A. B's members are in B's dict, which A "
        "never sees (the broker is there, unused).",
    ),
    BrokerDrill(
        id="predict-ws-replicas-redis",
        title="rooms relayed through Redis pub/sub, served as two replicas",
        topic="WebSockets at scale",
        snippet="ws_rooms_redis.py",
        load=_FLEET_LOAD,
        question=f"how many of the {2 * PER_REPLICA} members receive the message",
        unit="members",
        reference=lambda: float(2 * PER_REPLICA),
        tolerance=Tolerance(absolute=0.5),
        measure=replicas_reached(PER_REPLICA),
        explanation="A publishes to the channel room:r; every replica subscribed to room:* "
        "at startup, so Redis hands the message to A and to B, and each sends it to its own "
        "members: all six.",
    ),
]
