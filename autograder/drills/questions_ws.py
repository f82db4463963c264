"""Interview questions on WebSockets: a member that stops reading, and fanning out across a
fleet. Model answers cite live drills (:mod:`autograder.drills.predict_ws`,
:mod:`autograder.drills.spot_fix_ws`), as in :mod:`autograder.drills.questions`.
"""

from __future__ import annotations

from autograder.drills.questions import Question

DRILLS: list[Question] = [
    Question(
        "q-ws-stalled-reader",
        "A WebSocket client that stops reading",
        "A client stops reading your WebSocket (a phone in a tunnel). What happens to the other "
        "members of its room, and what do you do about it?",
        "Nothing fails: the sends to it just stop returning. uvicorn's send hands the frame to "
        "the transport and returns; once the kernel's buffers and asyncio's write buffer "
        "(64 KiB) are full, it waits for them to drain, with no deadline of its own, and "
        "uvicorn's keepalive does not end that wait (it closes the transport, which first "
        "waits for the buffer to drain). A broadcast that awaits each member's send in turn "
        "then waits there for everyone: members that keep reading get "
        "{cite:predict-ws-stalled-reader} out of 40, then nothing, and the POSTs hang. "
        "Give each member a bounded queue and a sender task of its own (or a send deadline): "
        "the readers get {cite:predict-ws-queued-reader}. A member that falls behind must "
        "then be dropped and closed (1008), not skipped: skipping leaves holes it never "
        "learns about, {cite:fix-room-keeps-dead-member}. A peer that vanished without a FIN "
        "is found by the server's ping timeout, not by the app.",
        (
            "send waits on full buffers, no deadline",
            "a sequential broadcast stalls every member",
            "bounded queue or send deadline per member",
            "drop and close the slow member, do not skip it",
        ),
    ),
    Question(
        "q-ws-fanout-fleet",
        "Fanning out to 10,000 WebSockets",
        "How do you fan out one message to 10,000 WebSocket clients spread across several "
        "workers or replicas?",
        "Each worker is a process of its own and holds only the sockets that connected to it, "
        "so rooms in a dict reach one process's members: with three members on each of two "
        "replicas, a message posted to one reaches {cite:predict-ws-replicas-in-memory} out of "
        "six. A fleet needs a broker between the processes: each replica subscribes (Redis "
        "pub/sub, say, PSUBSCRIBE room:*), a publish goes to Redis, and every replica sends "
        "it to its own members: {cite:predict-ws-replicas-redis}. Then, in each replica, "
        "the per-member bounded queue (or send deadline) that keeps one slow socket from "
        "holding the others, and the server's keepalive for peers that vanished. Redis pub/sub "
        "delivers at most once, to whoever is subscribed at that moment: a replica that "
        "reconnects to Redis has missed what was published meanwhile, so members that must "
        "catch up need sequence numbers and a log (Redis Streams, a database) to replay from.",
        (
            "each process holds only its own sockets",
            "a broker between replicas (Redis pub/sub)",
            "each replica delivers to its local members",
            "pub/sub is at most once: replay needs a log",
        ),
    ),
]
