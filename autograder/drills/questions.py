"""The classic interview questions on FastAPI concurrency, with model answers.

Every model answer cites figures a learner can rerun with one command: a predict drill
(``python -m autograder drill ID``, which serves the snippet and measures it live) or a
spot-and-fix drill (a broken service the grader judges). ``{cite:ID}`` in an answer
becomes the predict drill's expected figure and its command, or the spot-and-fix drill's
title and its command, so an answer never carries a number that no drill checks. The
questions on production (upstreams, shutdown, tasks, databases, finding the blocking
line) are in :mod:`autograder.drills.questions_production`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autograder.drills import (
    predict,
    predict_lifecycle,
    predict_limits,
    predict_stalls,
    predict_streams,
    predict_ws,
    spot_fix,
    spot_fix_ws,
)
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.spot_fix import SpotFixDrill

_CITABLE: list[PredictDrill | SpotFixDrill] = [
    *predict.DRILLS,
    *predict_stalls.DRILLS,
    *predict_limits.DRILLS,
    *predict_lifecycle.DRILLS,
    *predict_streams.DRILLS,
    *predict_ws.DRILLS,
    *spot_fix.DRILLS,
    *spot_fix_ws.DRILLS,
]
_BY_ID = {d.id: d for d in _CITABLE}
_CITE = re.compile(r"\{cite:([a-z0-9-]+)\}")


def command(drill_id: str) -> str:
    return f"python -m autograder drill {drill_id}"


def _cite(match: re.Match[str]) -> str:
    d = _BY_ID[match.group(1)]
    if isinstance(d, SpotFixDrill):
        return f"the spot-and-fix drill '{d.title}' (`{command(d.id)}`)"
    return f"{d.reference_text()} (`{command(d.id)}`)"


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    question: str
    answer: str  # with {cite:ID} markers
    key_points: tuple[str, ...]
    kind: str = "question"

    def model_answer(self) -> str:
        return _CITE.sub(_cite, self.answer)

    def cited(self) -> list[str]:
        return _CITE.findall(self.answer)

    def prompt(self) -> str:
        return self.question


DRILLS: list[Question] = [
    Question(
        "q-def-or-async",
        "def or async def?",
        "When would you write a FastAPI endpoint as plain `def` rather than `async def`?",
        "When its body calls blocking code (a sync driver, `requests`, `time.sleep`, file "
        "I/O) and there is no awaitable version. FastAPI runs a `def` endpoint in a worker "
        "thread, so 20 requests sleeping 0.3 s finish in about {cite:predict-def-sleep}; the "
        "same call inside `async def` runs on the event loop and serialises everything: "
        "10 x 0.2 s takes {cite:predict-sleep-in-async}. `async def` is right only when "
        "every slow call in it is awaited.",
        (
            "def runs in a thread pool",
            "blocking calls in async def block the loop",
            "async def needs awaitable I/O",
        ),
    ),
    Question(
        "q-threadpool-size",
        "How many def requests at once?",
        "How many `def` endpoints does FastAPI run at the same time, and what sets that number?",
        "AnyIO's default CapacityLimiter: 40 tokens, shared by every `def` endpoint, `def` "
        "dependency and `def` background task (Starlette's run_in_threadpool). With 100 "
        "requests on a 0.3 s upstream the upstream sees at most {cite:predict-def-limiter} "
        "and the burst comes back in waves, {cite:predict-def-limiter-total}. Raise it in "
        "the lifespan with `anyio.to_thread.current_default_thread_limiter().total_tokens = "
        "N`, or make the I/O async. It is not `min(32, cpu_count + 4)`: that is asyncio's "
        "default executor.",
        (
            "40 tokens",
            "AnyIO CapacityLimiter",
            "shared by def endpoints and dependencies",
            "raise total_tokens in the lifespan or go async",
        ),
    ),
    Question(
        "q-to-thread-pool",
        "asyncio.to_thread vs def endpoints",
        "Does `asyncio.to_thread` use the same thread pool as FastAPI's `def` endpoints?",
        "No. `asyncio.to_thread` and `loop.run_in_executor(None, ...)` use the loop's default "
        "executor, a ThreadPoolExecutor of `min(32, os.cpu_count() + 4)` workers unless set; "
        "`def` endpoints go through AnyIO's 40-token limiter. On a stock loop the upstream "
        "sees {cite:predict-to-thread-default} from 20 to_thread calls, not 40. Starlette's "
        "`run_in_threadpool` uses the AnyIO pool.",
        ("different pools", "min(32, cpu_count + 4)", "40-token AnyIO limiter"),
    ),
    Question(
        "q-background-tasks",
        "BackgroundTasks: when, in what order, and failures",
        "When do FastAPI BackgroundTasks run, in what order, and what happens if one raises?",
        "After the response has been sent, one after another in registration order, each "
        "awaited before the next (a `def` task in the thread pool, an `async def` task on the "
        "loop): the AUDIT_LOG reads {cite:predict-bg-order}. If one raises, the client already "
        "has its 200, the error goes to the server log, and the tasks after it never run: "
        "AUDIT_LOG holds {cite:predict-bg-exception}. Catch and log inside each task; for work "
        "that must survive a restart, use a durable queue (Celery, ARQ, a database table).",
        (
            "after the response",
            "sequential, registration order",
            "an exception stops the later tasks",
            "client never sees it",
            "durable queue",
        ),
    ),
    Question(
        "q-cpu-bound",
        "CPU-heavy work in a FastAPI service",
        "A password-hashing endpoint makes /health time out. What do you do?",
        "The hash runs on the event loop, so four of them hold it for their whole CPU time: "
        "/health p95 {cite:predict-cpu-in-async}. `hashlib.pbkdf2_hmac` releases the GIL, so "
        "`await asyncio.to_thread(...)` frees the loop (/health p95 {cite:"
        "predict-cpu-to-thread-health}) and uses {cite:predict-cpu-to-thread-cores}. "
        "Pure-Python work holds the GIL: in threads it still uses only "
        "{cite:predict-cpu-python-thread} and starves the loop, so it needs a "
        "ProcessPoolExecutor (or a worker service).",
        (
            "move it off the loop",
            "pbkdf2 releases the GIL",
            "pure Python holds the GIL",
            "process pool for pure-Python CPU work",
        ),
    ),
    Question(
        "q-dependencies",
        "Blocking code in dependencies",
        "Does a blocking call in a dependency block the event loop?",
        "It depends on how the dependency is declared, not the endpoint. A `def` dependency "
        "runs in the thread pool even for an `async def` endpoint (10 connects of 0.2 s: "
        "{cite:predict-sync-dep}); an `async def` dependency runs on the loop, so a sync "
        "connect in it serialises every request ({cite:predict-async-dep-blocks}).",
        ("def dependency runs in the thread pool", "async def dependency runs on the loop"),
    ),
    Question(
        "q-sync-client",
        "requests/httpx.get in async code",
        "What goes wrong when an `async def` endpoint calls `requests.get` or `httpx.get`?",
        "The call blocks the loop thread until the answer arrives, so the server reads no "
        "other request meanwhile: 5 requests on a 0.3 s upstream reach it one at a time "
        "(peak {cite:predict-sync-http-in-async}). Use one shared `httpx.AsyncClient` "
        "(created in the lifespan) and await it, or make the endpoint `def`. Ruff's ASYNC210 "
        "flags the call.",
        ("blocks the loop", "upstream sees one at a time", "shared AsyncClient", "ruff ASYNC"),
    ),
    Question(
        "q-lock",
        "asyncio.Lock and throughput",
        "Your event loop is healthy but requests still queue. What could it be?",
        "Something serialises them without blocking the loop: a lock held across an await, a "
        "semaphore, a small executor or connection pool. With one asyncio.Lock around a 0.1 s "
        "refresh, the slowest of 10 requests takes {cite:predict-lock}. Hold locks only "
        "around shared state (or one lock per key), and size pools for the concurrency you "
        "expect.",
        ("a lock or pool serialises", "lock only the shared state", "per-key locks"),
    ),
    Question(
        "q-file-io",
        "Files in async code",
        "Is `open()` / `write()` inside `async def` a problem? There is no await in it.",
        "Yes: file I/O is blocking and asyncio has no async file API, so a slow disk or "
        "network share holds the loop. 10 uploads of 0.1 s each make a /health probe wait "
        "{cite:predict-file-write}. Use `asyncio.to_thread` (aiofiles does the same), or a "
        "`def` endpoint.",
        ("file I/O blocks", "asyncio has no async files", "to_thread or def"),
    ),
    Question(
        "q-workers",
        "Does --workers fix it?",
        "Why not just run `uvicorn --workers 4` to hide a blocking call?",
        "Each worker is one process with one event loop: a blocking call still stalls every "
        "request that worker has accepted (here 10 x 0.2 s in one worker takes "
        "{cite:predict-sleep-in-async}), and asyncio accepts every pending connection at once, "
        "so a burst can land on one worker while another idles. Worse, it hides: a health "
        "check through the shared port is answered by a free worker, and uvicorn's supervisor "
        "never restarts a blocked worker (a thread, not the loop, answers its ping). More "
        "workers multiply capacity by 4 at best and cost memory; the fix is to stop blocking "
        "the loop (notebook 06 measures `--workers 2`).",
        ("one loop per worker", "a blocked worker stalls its requests", "capacity x N at best"),
    ),
]
