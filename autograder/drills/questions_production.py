"""Interview questions on running a FastAPI service in production, with model answers.

The same record as :mod:`autograder.drills.questions` (``{cite:ID}`` names a drill the
learner can rerun). The facts about uvicorn, Starlette, asyncio and SQLAlchemy were read
in the installed sources: uvicorn's ``Server.shutdown`` and ``handle_exit``, Starlette's
``StreamingResponse``, ``asyncio.tasks._all_tasks`` (a ``weakref.WeakSet``),
``BaseEventLoop.slow_callback_duration``, SQLAlchemy's ``QueuePool`` defaults, and for
Server-Sent Events FastAPI's ``routing.py`` and ``sse.py`` (``EventSourceResponse``, the
15 s ``: ping``), uvicorn's h11 protocol (``connection_lost``, ``send`` after a
disconnect) and httpx's default ``Limits`` and ``Timeout``.
"""

from __future__ import annotations

from autograder.drills.questions import Question

DRILLS: list[Question] = [
    Question(
        "q-upstream-rate-limit",
        "Staying under an upstream's rate limit",
        "Your service calls a partner API that accepts 10 calls in flight and answers 429 "
        "beyond. How do you keep under it?",
        "The limit counts the whole service's calls, so the guard must be one object every "
        "request shares: a module-level `asyncio.Semaphore(10)` around each call, or one "
        "`httpx.AsyncClient(limits=httpx.Limits(max_connections=10))` whose pool queues the "
        "rest. A limit made per request lets every request send 10. With no limit, 10 "
        "dashboards gathering 5 calls each get {cite:predict-fanout-429} refused; practise the "
        "fix in {cite:fix-fanout-throttled}. Retrying 429s with backoff (and `Retry-After`) "
        "is a second line of defence, not the limit; with several workers or replicas, "
        "divide the limit between them or share a token bucket (Redis).",
        (
            "one limit shared by the whole service",
            "module-level semaphore or client pool limits",
            "a per-request limit does not help",
            "backoff is not a limit",
            "divide across workers and replicas",
        ),
    ),
    Question(
        "q-fan-out-siblings",
        "Fanning out inside one request",
        "An endpoint needs five upstream calls. How do you make them at once, and what "
        "happens to the other four when one fails?",
        "Start them together: `asyncio.gather` or, better, an `asyncio.TaskGroup`; the "
        "request then takes one call's time instead of five. They differ on failure: "
        "`gather` raises the first exception at once but does not cancel the other "
        "awaitables, so the upstream still answers {cite:predict-gather-siblings} after the "
        "failure (work nobody will read, holding the upstream's capacity). A TaskGroup "
        "cancels the siblings, httpx closes their connections, and the errors arrive as an "
        "ExceptionGroup (`except*`). Fanning out multiplies the calls in flight, so it needs "
        "the service-wide limit too.",
        (
            "concurrent: one call's latency",
            "gather does not cancel siblings",
            "TaskGroup cancels siblings",
            "ExceptionGroup / except*",
            "still needs a shared limit",
        ),
    ),
    Question(
        "q-timeouts-threads",
        "Timeouts, disconnects and threads",
        "How do you bound an upstream call that may never answer, and what happens to the "
        "work when the caller gives up or the client disconnects?",
        "Give every call a timeout of its own: `requests` and `urllib` wait forever by "
        "default, httpx 5 s. An awaited call can be cancelled: under `asyncio.timeout` the "
        "CancelledError unwinds it and httpx closes the connection, so the upstream sees "
        "{cite:predict-timeout-awaited}. A thread cannot be cancelled: `wait_for` around "
        "`to_thread` stops waiting, the caller gets its 504, and the thread stays blocked in "
        "recv() with its connection, {cite:predict-timeout-around-thread}; in a `def` "
        "endpoint each hang holds one of the 40 tokens until /health itself queues "
        "({cite:fix-hung-upstream}). So a blocking call needs the library's own timeout, "
        "which wakes the thread. A client that disconnects does not stop a plain endpoint "
        "(it runs to its end; poll `await request.is_disconnected()` in long work); "
        "Starlette does cancel a StreamingResponse when it sees the disconnect.",
        (
            "a timeout on every call",
            "requests/urllib have none by default",
            "awaited calls are cancelled, threads are not",
            "the library's own timeout frees the thread",
            "disconnect does not cancel a plain endpoint",
        ),
    ),
    Question(
        "q-graceful-shutdown",
        "Graceful shutdown on a deploy",
        "A deploy sends SIGTERM to your uvicorn process. What happens to requests in flight "
        "and to their background tasks?",
        "uvicorn's signal handler sets `should_exit`; its shutdown then closes the listening "
        "sockets (no new connections), closes idle keep-alive connections, lets busy ones "
        "finish their response, and waits for every request task, which includes the "
        "response's background tasks, before the lifespan shutdown runs. That wait has no "
        "limit unless `--timeout-graceful-shutdown N` is set; then the tasks still running "
        "after N s are cancelled. 10 background tasks of 0.5 s all finish: "
        "{cite:predict-sigterm-background}; tasks of 3 s with a 1 s timeout: "
        "{cite:predict-sigterm-grace-exceeded}; SIGKILL (an OOM, or the orchestrator's grace "
        "period running out: Kubernetes sends it 30 s after SIGTERM by default): "
        "{cite:predict-sigkill-background}. Keep the graceful timeout under the "
        "orchestrator's period, and put work that must survive in a durable queue.",
        (
            "stops accepting, finishes in-flight responses",
            "waits for background tasks",
            "no limit unless --timeout-graceful-shutdown",
            "SIGKILL loses everything",
            "durable queue for work that must survive",
        ),
    ),
    Question(
        "q-create-task-vanishes",
        "Fire-and-forget tasks",
        "Why can a task started with a bare `asyncio.create_task(...)` vanish before it finishes?",
        "The event loop keeps only a weak reference to its tasks (`asyncio.tasks._all_tasks` "
        "is a `weakref.WeakSet`; the docs say to save a reference to the result). While a "
        "task waits, only the future it awaits holds it: when nothing alive holds that "
        "future either, the task is garbage, and the collector destroys it mid-flight "
        "('Task was destroyed but it is pending!'). 20 notifications waiting on weakly held "
        "futures, then one `gc.collect()`: {cite:predict-create-task-vanishes} written; the "
        "same tasks kept in a set: {cite:predict-create-task-kept}. Keep a strong reference "
        "(a set and `add_done_callback(set.discard)`, or a TaskGroup); an unreferenced "
        "task's exception is also only logged when it is collected.",
        (
            "the loop holds tasks weakly",
            "garbage collector destroys a pending task",
            "keep a reference until done",
            "TaskGroup or a set with add_done_callback",
        ),
    ),
    Question(
        "q-p99-after-deploy",
        "A p99 of 30 s after a deploy that added one HTTP call",
        "Your p99 jumped to 30 s after a deploy that added one HTTP call. Where do you look?",
        "30 s is not the new call's latency: it is SQLAlchemy's default `pool_timeout`. "
        "Requests are waiting for a pooled database connection, because the new call is "
        "awaited while a session (a transaction, a checked-out connection) is held: a `yield` "
        "dependency that opens the session for the whole request, or the call inside "
        "`session.begin()`. Each request now holds a connection for the call's duration, so "
        "the pool serves a fraction of the traffic and the rest queue up to `pool_timeout`. "
        "Look at the database's side: `pg_stat_activity` shows the service's connections "
        "*idle in transaction* while the database itself is idle; on the app's side "
        "`engine.pool.status()` shows every connection checked out. The same queue without "
        "an HTTP call, 15 connections for 40 requests with the default timeout: "
        "{cite:predict-db-pool-wait}. Fix: never hold a connection across an await that is not "
        "the database (the call first, or two short transactions); raising the pool or the "
        "timeout only moves the queue (and a bigger pool, times workers, runs into "
        "`max_connections`: SQLSTATE 53300). Practise it: {cite:fix-pool-held}, or the "
        "`pool-stall` exercise.",
        (
            "30 s is the default pool_timeout",
            "a connection held across the new await",
            "pg_stat_activity: idle in transaction",
            "call first or two short transactions",
            "a bigger pool or timeout only moves the queue",
        ),
    ),
    Question(
        "q-db-pool-session",
        "A database pool and a session per request",
        "How should a FastAPI service hold its database connections, and what goes wrong "
        "under load?",
        "One engine (one pool) per process, made at startup, and one session per request "
        "from a dependency with `yield` that closes it (returning the connection); never a "
        "session shared between concurrent requests. SQLAlchemy's QueuePool defaults to "
        "`pool_size=5`, `max_overflow=10`, `pool_timeout=30`: 15 connections for 40 `def` "
        "threads. 40 queries of 0.3 s with a 0.1 s pool_timeout: "
        "{cite:predict-db-pool-timeout}; with the default timeout they queue instead, "
        "{cite:predict-db-pool-wait}, each waiter holding a thread token. Size the pool to "
        "the concurrency you allow (and the database's max_connections over workers and "
        "replicas), hold a connection only for the query, or go async: "
        "`create_async_engine` (asyncpg for PostgreSQL, aiosqlite for SQLite) with an "
        "AsyncSession per request.",
        (
            "one engine per process",
            "one session per request, closed by a yield dependency",
            "5 + 10 default, pool_timeout 30",
            "pool smaller than the thread limiter",
            "async engine: asyncpg / aiosqlite",
        ),
    ),
    Question(
        "q-find-blocking-line",
        "Finding the blocking line in production",
        "p99 spikes and /health sometimes times out, but CPU is low. How do you find the "
        "line that blocks the event loop?",
        "First show it is the loop: an `async def` /health (or a task that sleeps 0.1 s and "
        "logs how late it woke) measures loop lag; if it stays fast while requests queue, "
        "look for a lock or a pool instead ({cite:predict-lock}). A blocking call serialises "
        "everything: 10 requests with a 0.2 s `time.sleep` take {cite:predict-sleep-in-async}. "
        "Then catch the loop thread in the act: asyncio debug mode (`PYTHONASYNCIODEBUG=1`) "
        "logs 'Executing <Task ...> took 0.210 seconds' for any step over "
        "`loop.slow_callback_duration` (0.1 s) and names the task, not the line; a stack "
        "sampler names the line: `py-spy dump --pid` or a watchdog thread reading "
        "`sys._current_frames()` while the loop lags, which is what the course's grader "
        "does (see it name the line in {cite:fix-blocking-dependency}). Ruff's ASYNC rules "
        "find the known blocking calls before they ship.",
        (
            "measure loop lag first",
            "lock or pool if the loop is free",
            "asyncio debug mode names the slow task",
            "a stack sampler names the line (py-spy, watchdog)",
            "ruff ASYNC rules",
        ),
    ),
    Question(
        "q-sse-clients-per-worker",
        "How many SSE clients can one worker hold?",
        "Your service relays a model's answer as Server-Sent Events. How many SSE clients "
        "can one uvicorn worker hold, and what runs out first?",
        "It depends on what an open stream holds while it waits. An `async def` generator "
        "that awaits an async client holds a task, two sockets (the client's and the "
        "model's) and a few kilobytes: one worker holds thousands, and what runs out first "
        "is file descriptors (`ulimit -n`), the HTTP client's pool (httpx's default "
        "`Limits(max_connections=100)`: stream 101 waits for a connection, and fails "
        "after the default 5 s pool timeout) or the model API's own limit. A sync stream "
        "(a `def` generator under `EventSourceResponse`, "
        "or `StreamingResponse` over a sync generator) holds one of AnyIO's 40 worker "
        "threads for as long as it waits: with 50 streams the model sees "
        "{cite:predict-sse-sync-threads} opened before its first token, the rest queue "
        "and wait {cite:predict-sse-sync-first-token} for theirs, and every `def` endpoint "
        "queues behind them. So: 40 for sync streams, the pools and descriptors for "
        "async ones. When a client closes the tab, uvicorn turns the FIN into "
        "`http.disconnect` and Starlette (ASGI 2.3 under uvicorn's h11 and httptools) "
        "cancels the response's body: an `async with client.stream(...)` inside it closes "
        "the model's stream, {cite:predict-sse-wasted-inline} wasted, but a reader task "
        "nothing cancels reads on for nobody, {cite:predict-sse-wasted-task} (practise "
        "it in {cite:fix-relay-never-closes}). FastAPI's `EventSourceResponse` sends a "
        "`: ping` comment after 15 s of silence, to keep proxies from closing an idle "
        "stream; it notices nothing: uvicorn's `send` after a disconnect returns "
        "silently, and a client that vanished without a FIN is seen only when TCP gives "
        "up.",
        (
            "an async stream holds a task and sockets, not a thread",
            "sync streams hold one of 40 worker threads each",
            "file descriptors and the client's pool (httpx: 100) run out first",
            "the disconnect cancels the response's generator, not tasks it started",
            "keep-alive pings keep proxies open, they detect nothing",
        ),
    ),
]
