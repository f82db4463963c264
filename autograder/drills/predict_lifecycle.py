"""Predict drills on a service's life around its requests: a deploy's signal, tasks nobody
holds, and a database pool shared by the worker threads.

Data only, like :mod:`autograder.drills.predict`. The shutdown drills end the served app
with a signal (``LabApp.kill``) and count the lines its background tasks wrote; the app
is served with uvicorn's ``timeout_graceful_shutdown=1`` (``autograder.harness.serve``), which the
loads say. The task drill counts notifications written to AUDIT_LOG; the pool drills
count 503s, or time the burst.
"""

from __future__ import annotations

import signal

from autograder.drills.measures import answered_with, lines_after_signal, notifications_delivered
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.scoring import Tolerance

RECEIPTS = 10
NOTIFICATIONS = 20
ORDERS = 40
GRACE_S = 1  # the course's uvicorn: timeout_graceful_shutdown=1 (uvicorn's default: none)
COUNT = Tolerance(absolute=1)
SECONDS = Tolerance(absolute=0.15, relative=0.3)

_SHUTDOWN_LOAD = (
    f"{RECEIPTS} POST /receipts at once, each answered 202 at once and leaving a background "
    "task of {ms} ms that then writes a line to AUDIT_LOG; the moment the last 202 arrives, "
    "{sig} to the app's process (uvicorn, served with --timeout-graceful-shutdown "
    f"{GRACE_S})"
)

DRILLS: list[PredictDrill] = [
    PredictDrill(
        id="predict-sigterm-background",
        title="a deploy's SIGTERM while background tasks run",
        topic="graceful shutdown",
        snippet="shutdown_bg.py",
        load=_SHUTDOWN_LOAD.format(ms=500, sig="SIGTERM"),
        question=f"how many of the {RECEIPTS} receipt lines are in AUDIT_LOG once the app exited",
        unit="lines",
        reference=lambda: float(RECEIPTS),
        tolerance=COUNT,
        measure=lines_after_signal(signal.SIGTERM, RECEIPTS, 500),
        explanation="On SIGTERM uvicorn stops accepting, closes idle connections and waits for "
        "every request task to end, and a response's background tasks run inside its task: "
        "all ten finish (0.5 s) before it exits. Only then does the lifespan shut down.",
    ),
    PredictDrill(
        id="predict-sigterm-grace-exceeded",
        title="SIGTERM when the tasks outlast the graceful-shutdown timeout",
        topic="graceful shutdown",
        snippet="shutdown_bg.py",
        load=_SHUTDOWN_LOAD.format(ms=3000, sig="SIGTERM"),
        question=f"how many of the {RECEIPTS} receipt lines are in AUDIT_LOG once the app exited",
        unit="lines",
        reference=lambda: 0.0,
        tolerance=COUNT,
        measure=lines_after_signal(signal.SIGTERM, RECEIPTS, 3000),
        explanation=f"With --timeout-graceful-shutdown {GRACE_S}, uvicorn waits {GRACE_S} s for "
        "the tasks, then cancels them: a 3 s task never writes its line. Without the option "
        "uvicorn waits as long as it takes, and the orchestrator's own limit (Kubernetes' "
        "terminationGracePeriodSeconds, 30 s) ends it with SIGKILL instead.",
    ),
    PredictDrill(
        id="predict-sigkill-background",
        title="SIGKILL while background tasks run",
        topic="graceful shutdown",
        snippet="shutdown_bg.py",
        load=_SHUTDOWN_LOAD.format(ms=500, sig="SIGKILL"),
        question=f"how many of the {RECEIPTS} receipt lines are in AUDIT_LOG once the app exited",
        unit="lines",
        reference=lambda: 0.0,
        tolerance=COUNT,
        measure=lines_after_signal(signal.SIGKILL, RECEIPTS, 500),
        explanation="SIGKILL cannot be caught: the process ends at once with its tasks, "
        "though every client already had its 202. Work that must survive a kill (an OOM, a "
        "crash, a node lost) belongs in a durable queue, not in BackgroundTasks.",
    ),
    PredictDrill(
        id="predict-create-task-vanishes",
        title="asyncio.create_task with no reference kept",
        topic="tasks",
        snippet="bare_create_task.py",
        load=f"{NOTIFICATIONS} POST /notify/{{id}} at once (each creates a task waiting for the "
        "batcher's next flush, 0.2 s away) and no reference to it; then POST /import, which "
        "ends with gc.collect()",
        question=f"how many of the {NOTIFICATIONS} notifications reach AUDIT_LOG",
        unit="lines",
        reference=lambda: 0.0,
        tolerance=COUNT,
        measure=notifications_delivered("/notify", NOTIFICATIONS, then="/import", within=1.0),
        explanation="The loop keeps tasks only in a WeakSet (asyncio.tasks._all_tasks), and the "
        "batcher holds its futures weakly, so each waiting task is garbage in a cycle: the "
        "collector destroys it ('Task was destroyed but it is pending!') and its line is never "
        "written. The walk back from the loop to a task is what keeps it alive.",
    ),
    PredictDrill(
        id="predict-create-task-kept",
        title="asyncio.create_task kept in a set until done",
        topic="tasks",
        snippet="bare_create_task.py",
        load=f"{NOTIFICATIONS} POST /notify-kept/{{id}} at once (the same task, added to a "
        "module-level set and discarded when done); then POST /import, which ends with "
        "gc.collect()",
        question=f"how many of the {NOTIFICATIONS} notifications reach AUDIT_LOG",
        unit="lines",
        reference=lambda: float(NOTIFICATIONS),
        tolerance=COUNT,
        measure=notifications_delivered("/notify-kept", NOTIFICATIONS, then="/import", within=1.0),
        explanation="A strong reference from a live object (the module's set) keeps each task, "
        "so the collector leaves it alone and every notification is written at the next "
        "flush. asyncio.TaskGroup, or the set and add_done_callback(set.discard), does that.",
    ),
    PredictDrill(
        id="predict-db-pool-timeout",
        title="SQLAlchemy's default pool (5 + 10) under 40 worker threads",
        topic="databases",
        snippet="db_pool.py",
        load=f"{ORDERS} GET /orders/{{id}} at once (def endpoints; each holds a pooled "
        "connection for a 0.3 s query; pool_size=5, max_overflow=10, pool_timeout=0.1 s)",
        question=f"how many of the {ORDERS} requests fail with 503 (the pool timed out)",
        unit="requests",
        reference=lambda: float(ORDERS - 15),
        tolerance=Tolerance(absolute=2),
        measure=answered_with(503, "GET", "/orders", ORDERS),
        explanation="40 thread tokens let all 40 requests ask the pool at once, but it hands "
        "out only 5 + 10 connections: the other 25 wait 0.1 s and get sqlalchemy's "
        "TimeoutError. The pool, not the thread limiter, is the ceiling.",
    ),
    PredictDrill(
        id="predict-db-pool-wait",
        title="the same pool with the default pool_timeout of 30 s",
        topic="databases",
        snippet="db_pool.py",
        load=f"{ORDERS} GET /orders-patient/{{id}} at once (def endpoints; each holds a pooled "
        "connection for a 0.3 s query; pool_size=5, max_overflow=10, default pool_timeout)",
        question="the total time until the last answer, in seconds",
        unit="s",
        reference=lambda: 0.9,
        tolerance=SECONDS,
        measure=answered_with(503, "GET", "/orders-patient", ORDERS, figure="total"),
        explanation="Nobody times out now: 15 connections serve 40 queries in waves of "
        "15, 15 and 10, three times 0.3 s, and every waiting request holds a thread token "
        "meanwhile. Size the pool with the thread limiter (or use an async engine, one "
        "session per request).",
    ),
]
