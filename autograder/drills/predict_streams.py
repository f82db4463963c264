"""Predict drills on Server-Sent Event streams: the worker threads that sync streams hold,
and the tokens a model still produces after its client left.

Data only, like :mod:`autograder.drills.predict`. Each drill relays the engine's model
API (``servers/model.py``: 0.5 s to the first token, then one every 25 ms); every figure
is read at that API, outside the app (:mod:`autograder.drills.measures_stream`). The facts
in the explanations were read in the installed FastAPI (``routing.py``: a sync generator
under ``EventSourceResponse`` goes through Starlette's ``iterate_in_threadpool``, pulled
by a producer task), Starlette (``StreamingResponse`` cancels its body on
``http.disconnect`` below ASGI spec 2.4, and uvicorn's h11 and httptools protocols say
2.3) and AnyIO (``to_thread.run_sync``: the default limiter of 40 tokens).
"""

from __future__ import annotations

from autograder.drills.measures_stream import threads_held, tokens_wasted
from autograder.drills.predict_drill import PredictDrill
from autograder.drills.scoring import Tolerance
from autograder.servers.model import FIRST_DELAY, LONG_TOKENS, TOKEN_DELAY

STREAMS = 50
LEAVERS = 4
LEAVE_AFTER = 5
SECONDS = Tolerance(absolute=0.15, relative=0.3)

_SYNC_LOAD = (
    f"{STREAMS} GET /chat/{{id}} at once (a def generator under EventSourceResponse, a sync "
    f"httpx stream from a model that sends its first token after {FIRST_DELAY:.1f} s, then one "
    f"every {TOKEN_DELAY * 1000:.0f} ms)"
)
_LEAVE_LOAD = (
    f"{LEAVERS} clients at once at GET {{path}}, each asking for a {LONG_TOKENS}-token answer "
    f"and closing the connection once it has {LEAVE_AFTER} tokens"
)

DRILLS: list[PredictDrill] = [
    PredictDrill(
        id="predict-sse-sync-threads",
        title="sync SSE streams: the worker threads they hold",
        topic="streaming",
        snippet="sse_sync_stream.py",
        load=_SYNC_LOAD,
        question="how many streams the model API has opened before it sends its first token",
        unit="streams",
        reference=lambda: 40.0,
        tolerance=Tolerance(absolute=1),
        measure=threads_held("/chat", STREAMS),
        explanation="FastAPI runs a def generator's next() in AnyIO's worker threads "
        "(iterate_in_threadpool, 40 tokens), and the first next() blocks until the model's "
        "first token: 40 streams hold all 40 threads for 0.5 s and the other 10 cannot even "
        "open theirs. Each open sync stream keeps a thread waiting, whatever the CPU does.",
    ),
    PredictDrill(
        id="predict-sse-sync-first-token",
        title="sync SSE streams: the last stream's first token",
        topic="streaming",
        snippet="sse_sync_stream.py",
        load=_SYNC_LOAD,
        question="how long the last of the streams waits for its first token, in seconds",
        unit="s",
        reference=lambda: 2 * FIRST_DELAY,
        tolerance=SECONDS,
        measure=threads_held("/chat", STREAMS, figure="last-first"),
        explanation="The 10 streams beyond 40 wait in the limiter's line until the first wave's "
        "first tokens free threads (0.5 s), then wait 0.5 s for their own: a second wave, 1 s. "
        "An async client (or a limiter of the streams' own) opens all 50 at once: 0.5 s.",
    ),
    PredictDrill(
        id="predict-sse-wasted-inline",
        title="a client leaves: the model read inside the response's generator",
        topic="streaming and disconnects",
        snippet="sse_disconnect.py",
        load=_LEAVE_LOAD.format(path="/chat/{id}"),
        question="the most tokens the model writes for one of them after it left",
        unit="tokens",
        reference=lambda: 0.0,
        tolerance=Tolerance(absolute=1),
        measure=tokens_wasted("/chat", LEAVERS, LEAVE_AFTER),
        explanation="Below ASGI 2.4 (uvicorn says 2.3), StreamingResponse listens for "
        "http.disconnect and cancels its body; the cancellation lands in the generator's await "
        "on the model, and its async with closes the model's stream within milliseconds: none, or one that was already in flight.",
    ),
    PredictDrill(
        id="predict-sse-wasted-task",
        title="a client leaves: the model read in a task of its own",
        topic="streaming and disconnects",
        snippet="sse_disconnect.py",
        load=_LEAVE_LOAD.format(path="/chat-task/{id}"),
        question="the most tokens the model writes for one of them after it left",
        unit="tokens",
        reference=lambda: float(LONG_TOKENS - LEAVE_AFTER),
        tolerance=Tolerance(absolute=2),
        measure=tokens_wasted("/chat-task", LEAVERS, LEAVE_AFTER),
        explanation="The disconnect cancels the response's generator (waiting on the queue), "
        "not the reader task, which nothing cancels: it reads the model's answer to its end, "
        f"{LONG_TOKENS} - {LEAVE_AFTER} tokens for nobody (and a paid one each). Cancel the "
        "task in the generator's finally, or read inline.",
    ),
]

__all__ = ["DRILLS"]
