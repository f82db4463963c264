# %% [markdown]
# # 04 · Thread-pool exhaustion: why 100 lookups come back in waves
#
# FastAPI runs a plain `def` endpoint in a worker thread, so a `def` endpoint that
# *waits* (on a socket, a file, a lock) leaves the event loop free. That is not true of
# every `def`: pure-Python work holds the GIL the loop needs, and starves it from a
# thread too (notebook 05 measures it). And the waiting kind has a ceiling, which this
# notebook measures. The app below is the
# `threadpool-exhaustion` exercise's starter: `GET /legacy/{item_id}` calls a slow
# upstream (0.3 s per answer) with the synchronous `httpx.get`, inside `def`.
#
# You will see:
#
# 1. the two thread pools of an asyncio program, measured in this kernel: they are
#    **not** the same pool and not the same size;
# 2. 100 concurrent requests answered in **waves of 40**, with the thread limiter's
#    tokens watched live while the burst runs;
# 3. a second trip through the same limiter: a `def` endpoint's response model;
# 4. the two fixes, raising the limiter in the lifespan and an async client, and
#    what each one costs (threads and memory against connections);
# 5. your turn: a lookup to fix, graded by the course's grader.
#
# Every number below comes from this run: a real uvicorn server in its own process,
# a real upstream in another, 100 real connections. The `assert` cells are the claims.

# %%
import asyncio
import inspect
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import anyio.to_thread
import fastapi.routing
import httpx
import ipywidgets as widgets
import starlette.concurrency
from _lesson import LeakCheck
from _pictures import costs_figure, limiter_figure
from _practice import REFERENCE, Tolerance, score
from _scenarios import LookupRun, costs_table, lookups_seen
from _turns import TURNS
from _widgets import run_button, run_in_fresh_loop
from httpx._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT_CONFIG
from IPython.display import Code, Markdown, display

from autograder import lab
from autograder.harness.app import DEFAULT_EXECUTOR_WORKERS

leaks = LeakCheck()  # the last cell checks that nothing started here is left running
N = 100  # requests per burst: the figures asserted below are for this default

# %% [markdown]
# ## 1. Two pools, often confused
#
# FastAPI hands a `def` endpoint (and a `def` dependency) to Starlette's
# `run_in_threadpool`. Here is that function, read from the Starlette installed in
# this environment:

# %%
source = inspect.getsource(starlette.concurrency.run_in_threadpool)
print(source)
assert "anyio.to_thread.run_sync" in source

# %% [markdown]
# `anyio.to_thread.run_sync` runs the function on an AnyIO worker thread, after
# borrowing a token from AnyIO's default `CapacityLimiter`: **40 tokens**. A request
# that finds no free token waits for one, first come first served. Read in the
# installed FastAPI and Starlette, the same limiter serves much more than `def`
# endpoints:
#
# - `def` dependencies, and the set-up of a `def` yield dependency (up to its `yield`;
#   FastAPI runs its teardown on a one-token limiter of its own);
# - the validation of a `def` endpoint's answer against its response model (below);
# - a `StreamingResponse` over a plain (sync) iterator: each `next()` is a trip;
# - `FileResponse` and `StaticFiles` (`os.stat`, and the file reads through
#   `anyio.open_file`), `UploadFile`'s `read`/`write`/`seek`/`close`;
# - `def` background tasks and `def` exception handlers.
#
# asyncio has a pool of its own, the loop's *default executor*: `asyncio.to_thread`
# and `loop.run_in_executor(None, ...)` use it. It is a `ThreadPoolExecutor` of
# `min(32, os.cpu_count() + 4)` threads. Many guides give that formula as FastAPI's
# thread pool; it is not. Measured, not quoted: 100 jobs of 50 ms sent through each
# pool at once, counting how many ran at the same time (each in a fresh event loop
# with the stock settings).

# %%
HOLD = 0.05  # seconds each job keeps its thread


class Gauge:
    """Counts the jobs running at once, from any thread."""

    def __init__(self) -> None:
        self.running = self.peak = 0
        self._lock = threading.Lock()

    def job(self, hold: float = HOLD) -> None:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(hold)
        with self._lock:
            self.running -= 1


async def through_asyncio_default_executor() -> int:
    gauge = Gauge()
    await asyncio.gather(*(asyncio.to_thread(gauge.job) for _ in range(N)))
    return gauge.peak


async def through_anyio_limiter() -> int:
    gauge = Gauge()
    async with anyio.create_task_group() as group:
        for _ in range(N):
            group.start_soon(anyio.to_thread.run_sync, gauge.job)
    return gauge.peak


default_executor_peak = run_in_fresh_loop(through_asyncio_default_executor)
anyio_peak = run_in_fresh_loop(through_anyio_limiter)
formula = min(32, (os.cpu_count() or 1) + 4)
display(Markdown(f"""
| pool | used by | jobs at once (measured) |
| --- | --- | --- |
| asyncio's default executor | `asyncio.to_thread`, `run_in_executor(None, …)` | {default_executor_peak} (formula: min(32, {os.cpu_count()} + 4) = {formula}) |
| AnyIO's default thread limiter | `def` endpoints and dependencies (`run_in_threadpool`) | {anyio_peak} |
"""))

# %%
assert default_executor_peak == formula, (default_executor_peak, formula)
assert anyio_peak == 40, anyio_peak
print(
    f"inside a served app, the course's harness sets asyncio's default executor to "
    f"{DEFAULT_EXECUTOR_WORKERS} workers, so asyncio.to_thread and a def endpoint "
    "behave alike on every machine; a stock uvicorn keeps the formula's figure."
)

# %% [markdown]
# **Forty per what?** AnyIO keeps the default limiter in a `RunVar`: one per running
# event loop. uvicorn runs one loop per worker process, so `--workers 4` means four
# limiters of 40 tokens each, 160 threads at most. Two event loops in this kernel, each
# in a thread of its own, sending their 100 jobs at the same time through "the" limiter:


# %%
async def jobs_on_this_loop(gauge: Gauge, hold: float) -> int:
    async with anyio.create_task_group() as group:
        for _ in range(N):
            group.start_soon(anyio.to_thread.run_sync, lambda: gauge.job(hold))
    return anyio.to_thread.current_default_thread_limiter().total_tokens


shared = Gauge()
with ThreadPoolExecutor(2) as two_loops:
    tokens_each = list(two_loops.map(lambda _: run_in_fresh_loop(lambda: jobs_on_this_loop(shared, 0.2)), range(2)))
print(f"two loops, each limiter {tokens_each} tokens: {shared.peak} jobs ran at once")
assert tokens_each == [40, 40]
assert 40 < shared.peak <= 80, shared.peak  # more than one limiter's worth: one limiter per loop

# %% [markdown]
# ## 2. A hundred lookups, in waves of 40
#
# The app, as you would find it:

# %%
print(Path("apps/nb04_legacy.py").read_text())


# %% [markdown]
# `nb04_meter` adds nothing to the lookup: a task that notes the limiter's
# `borrowed_tokens` (and the number of live threads) every 5 ms, and a `/lab/costs`
# endpoint. Now 100 lookups at once, for 100 different items.
#
# **Predict first.** Each lookup waits 0.3 s for the upstream, which can serve all 100
# at once. How many seconds until the last of the 100 is answered? Replace `None` with
# your figure.

# %%
predicted_legacy_total = None  # your figure: seconds until all 100 lookups are answered


# %%
def run_burst(app_file: str, n: int = N, tokens: int | None = None) -> LookupRun:
    """Serve the app, fire n lookups at once, collect what both sides saw."""
    with lab.serve(app_file) as app:
        if tokens is not None:  # the notebook's knob; the real fix is in the lifespan
            app.request("POST", f"/lab/limiter/{tokens}")
        app.request("GET", "/legacy/0")  # warm-up: imports, first thread, first client
        app.reset_stats()
        burst = app.burst("GET", [f"/legacy/{i}" for i in range(1, n + 1)])
        return lookups_seen(app, burst)  # the upstream's record, the limiter's trace, the costs


legacy = run_burst("apps/nb04_legacy.py")
b = legacy["burst"]
starts = legacy["upstream_starts"]
print(f"answered {len(b.answered)}/{N} (all correct: {legacy['correct']}) in {b.total:.2f} s; "
      f"answers arrived in {b.waves()} waves (gaps over 100 ms)")
print(f"upstream: at most {legacy['upstream_peak']} lookups in flight at once; "
      f"the 41st reached it {starts[40]:.2f} s after the first, the 81st {starts[80]:.2f} s after")
print(f"limiter: at most {legacy['max_borrowed']} of {legacy['limiter']['total_tokens']} tokens borrowed")
score("all 100 lookups answered", predicted_legacy_total, b.total,
      tolerance=Tolerance(absolute=0.15, relative=0.2), unit="s")
display(limiter_figure(legacy, f"{N} concurrent lookups, def endpoint, default limiter"))

# %% [markdown]
# Read the picture from the bottom: the tokens in use climb to 40 within a few
# milliseconds and stay pinned there; the other 60 requests are parked, waiting for
# a token, not for the upstream. Each time a lookup finishes, its token goes to the
# next one in line: the timeline shows blocks of bars ending about 0.3 s apart, and
# the last requests take three upstream round trips to be answered. With 100
# requests and 40 tokens there are ⌈100/40⌉ = 3 rounds, so the burst cannot take
# less than 3 × 0.3 s.
#
# (The meter is a task on the event loop, so it takes no sample while the loop is
# busy accepting and parsing the burst: the flat stretches at the very start.)
#
# The claims, on this run's figures (the 41st call can only start once one of the
# first 40 has finished, which takes the upstream's 0.3 s):

# %%
assert len(b.answered) == N and legacy["correct"]
assert legacy["max_borrowed"] == 40, legacy["max_borrowed"]  # the limiter was full...
assert 30 <= legacy["upstream_peak"] <= 40, legacy["upstream_peak"]  # ...and capped the upstream
assert starts[40] >= 0.28 and starts[80] >= 0.56, (starts[40], starts[80])  # three rounds
assert 0.85 <= b.total < 4.0, b.total  # at least 3 x 0.3 s

# %% [markdown]
# ## 3. The second trip: a response model
#
# Add one line of type hints, `-> Item` (a Pydantic model), and FastAPI checks every
# answer against it. For an `async def` endpoint the check runs on the loop; for a
# `def` endpoint FastAPI's `serialize_response` runs it in the thread pool, through the
# same limiter:

# %%
print(inspect.getsource(fastapi.routing.serialize_response).split("    if field:")[1].split("        if errors:")[0])
print(Path("apps/nb04_validated.py").read_text().split('UPSTREAM_URL = os.environ["UPSTREAM_URL"]')[1])

# %% [markdown]
# A lookup that comes back from the upstream now needs a token again, for a check of
# microseconds, and the limiter serves waiters in order: the 60 lookups still waiting
# for their *first* token are ahead of it. **Predict:** of the 100 lookups, how many are
# answered within 0.45 s (the first wave above had 40)?

# %%
predicted_first_wave = None  # your figure: lookups answered within 0.45 s, def endpoint with a response model

# %%
FIRST_WAVE = 0.45


def answered_within(burst: lab.Burst, seconds: float) -> int:
    return sum(r.end - burst.started <= seconds for r in burst.answered)


validated = run_burst("apps/nb04_validated.py")
vb = validated["burst"]
for name, run in (("no response model", legacy), ("-> Item", validated)):
    lat = sorted(r.end - run["burst"].started for r in run["burst"].answered)
    print(f"{name:18} all answered in {run['burst'].total:.2f} s; within {FIRST_WAVE} s: "
          f"{answered_within(run['burst'], FIRST_WAVE):3}; median answer {lat[len(lat) // 2]:.2f} s")
score(f"answered within {FIRST_WAVE} s", predicted_first_wave, answered_within(vb, FIRST_WAVE),
      tolerance=Tolerance(absolute=5), unit="lookups")
display(limiter_figure(validated, f"{N} concurrent lookups, def endpoint -> Item: every answer waits twice"))

# %%
assert len(vb.answered) == N and validated["correct"]
assert answered_within(b, FIRST_WAVE) >= 30, answered_within(b, FIRST_WAVE)  # the first wave, without the model
assert answered_within(vb, FIRST_WAVE) <= 5, answered_within(vb, FIRST_WAVE)  # with it: its check waited for a token
assert answered_within(vb, 0.8) >= 60, answered_within(vb, 0.8)  # and came back with the second wave

# %% [markdown]
# The first forty lookups had their upstream answers at 0.3 s, and their clients got
# them at about 0.6 s: the check of each answer queued behind the 60 lookups still
# waiting for a first token, and got one only when the second wave's tokens came back.
# Under exhaustion every extra trip through the limiter (a `def` dependency, a yield
# dependency's set-up, a response model, a sync streaming iterator) waits its turn
# again. Outside exhaustion it costs a thread hop of some tens of microseconds.
#
# ## 4. Fix 1: more tokens, set in the lifespan
#
# The limiter is a plain object you can change: `total_tokens` is writable. It
# belongs to the running event loop (AnyIO keeps it per loop, so each worker process
# has its own), so set it where the loop is already running and before any request:
# in the lifespan.

# %%
print(Path("apps/nb04_raised_limiter.py").read_text())
raised = run_burst("apps/nb04_raised_limiter.py")
rb = raised["burst"]
print(f"answered {len(rb.answered)}/{N} in {rb.total:.2f} s, {rb.waves()} wave(s); upstream peak "
      f"{raised['upstream_peak']}; at most {raised['max_borrowed']} tokens borrowed")
display(limiter_figure(raised, f"{N} concurrent lookups, def endpoint, limiter raised to 200"))

# %%
assert len(rb.answered) == N and raised["correct"]
assert raised["upstream_peak"] >= 90, raised["upstream_peak"]  # one round, not three
assert raised["max_borrowed"] >= 90, raised["max_borrowed"]
assert rb.total < min(1.5, b.total), (rb.total, b.total)

# %% [markdown]
# ## 5. Fix 2: no thread at all, an async client
#
# An `async def` endpoint that awaits a shared `httpx.AsyncClient` holds no thread
# while the upstream thinks: waiting is the event loop's job, and a waiting request
# costs a socket and a few kilobytes. The cap is now the client's pool. httpx's
# defaults: **100** connections at most, **20** kept alive when idle, and a request that
# finds all 100 busy waits **5 s** for one, then raises `httpx.PoolTimeout`. A burst of
# exactly 100 would sit on that cap, and after it 80 connections would be closed; so
# the app below sets `max_connections=200, max_keepalive_connections=200` on purpose,
# and `timeout=10` (every phase, the wait for a pooled connection included: 10 s).

# %%
print("httpx's defaults:", DEFAULT_LIMITS, DEFAULT_TIMEOUT_CONFIG, "| the app's timeout=10:", httpx.Timeout(10))
assert (DEFAULT_LIMITS.max_connections, DEFAULT_LIMITS.max_keepalive_connections, DEFAULT_TIMEOUT_CONFIG.pool) == (100, 20, 5.0)
assert httpx.Timeout(10).pool == 10
print(Path("apps/nb04_async_client.py").read_text())
asynced = run_burst("apps/nb04_async_client.py")
ab = asynced["burst"]
print(f"answered {len(ab.answered)}/{N} in {ab.total:.2f} s; upstream peak {asynced['upstream_peak']}; "
      f"at most {asynced['max_borrowed']} tokens borrowed")
display(limiter_figure(asynced, f"{N} concurrent lookups, async def + one AsyncClient"))

# %%
assert len(ab.answered) == N and asynced["correct"]
assert asynced["upstream_peak"] >= 90, asynced["upstream_peak"]
assert asynced["max_borrowed"] == 0, asynced["max_borrowed"]  # no worker thread used

# %% [markdown]
# ## 6. What each one costs
#
# The same three runs, measured inside the app's process right after its burst.
# AnyIO does not end an idle worker thread on its own: a later thread call stops the
# ones idle for 10 s or more. So the threads a burst needed are still there to count,
# and after a burst of 100 a quiet app keeps its 100 threads.

# %%
runs = {"def, 40 tokens (starter)": legacy, "def, 200 tokens": raised, "async def + AsyncClient": asynced}
display(Markdown(costs_table(runs)))
display(costs_figure({"def, 40": legacy, "def, 200": raised, "async": asynced}))

# %%
assert raised["costs"]["threads"] >= 90 > legacy["costs"]["threads"] >= 40
assert asynced["costs"]["threads"] <= 10
assert asynced["costs"]["upstream_connections"] >= 90  # kept alive in the client's pool
assert legacy["costs"]["upstream_connections"] == raised["costs"]["upstream_connections"] == 0


# %% [markdown]
# How to read the bill:
#
# - **Raising the limiter** buys concurrency with threads: one OS thread per request
#   in flight. Each thread reserves a stack's worth of address space (8 MiB here, see
#   the address-space column) but touches only what it uses, so resident memory grows
#   little; the real costs are scheduling and the GIL, which 100 threads contend for
#   whenever they wake up. It is the smallest change to a codebase full of `def`
#   endpoints and sync clients, and the right one when the sync library has no async
#   twin. Pick a number from what the upstream can take, not "as high as possible".
# - **The async client** buys concurrency with sockets: no thread per request, one
#   pooled connection per request in flight (kept alive afterwards for reuse). It
#   needs `async def` all the way down, and its own limit
#   (`httpx.Limits(max_connections=...)`) now decides how hard you hit the upstream.
# - Neither is free in CPU. Both fixed runs waited for the upstream once (peak 100),
#   so whatever their burst took beyond 0.3 s is processing: accepting and parsing
#   100 requests, opening 100 connections, on a 2-core machine. Which fix finishes
#   first here depends on that CPU work, not on waiting.
# - Either way the upstream now sees 100 calls at once instead of 40. The 40-token cap
#   was accidental back-pressure; when you remove it, choose the new limit on purpose.
#
# ## 7. Turn the knobs
#
# The lab app has an extra endpoint that sets `total_tokens` while it runs, so you can
# try any burst size against any limiter without editing a file. Predict the number of
# waves first: ⌈requests / tokens⌉. (Run in JupyterLab: a click starts a fresh server
# and stops it again.)

# %%
def try_it(requests: int, tokens: int) -> None:
    run = run_burst("apps/nb04_legacy.py", n=requests, tokens=tokens)
    burst = run["burst"]
    print(f"{requests} requests, {tokens} tokens: {burst.total:.2f} s, {burst.waves()} wave(s), "
          f"upstream peak {run['upstream_peak']} (predicted waves: {-(-requests // tokens)})")
    display(limiter_figure(run, f"{requests} lookups, limiter of {tokens} tokens"))


display(run_button(
    try_it,
    description="Send the burst",
    requests=widgets.IntSlider(value=N, min=10, max=250, step=10, description="requests"),
    tokens=widgets.IntSlider(value=40, min=10, max=250, step=10, description="tokens"),
))

# %% [markdown]
# ## 8. Your turn: a stock lookup
#
# `GET /legacy/{item_id}` again, written the way many codebases do: a `def` yield
# dependency hands the endpoint a sync `httpx.Client`, and the `def` endpoint declares
# its response model. The dependency's set-up, the call and the check of the answer
# all borrow from the same 40 tokens. The cell below copies it to `mine/04-stock.py`
# (once: your edits are kept). Make 100 lookups at once reach the warehouse together,
# with either fix above.
#
# The check is the `threadpool-exhaustion` exercise's own scenario and checks, run by the
# course's grader: your file served by a real uvicorn in a process of its own, 100
# requests at once, the upstream counting how many it serves at the same time.

# %%
stock = TURNS["04-stock"]
display(Code(filename=stock.start(), language="python"))

# %%
verdict = stock.check()  # grades mine/04-stock.py; rerun after each edit

# %%
if REFERENCE:  # executed headless (CI): the reference answer must pass
    assert verdict.passed, verdict.render()

# %% [markdown]
# Stuck? Run `stock.show_answer()` in a new cell to see one answer.
#
# ## What to remember
#
# - `def` endpoints, `def` dependencies (a yield dependency's set-up too), a `def`
#   endpoint's response-model check, sync streaming iterators and Starlette's file calls
#   run on AnyIO worker threads behind one `CapacityLimiter` of **40** tokens per event
#   loop, i.e. per worker process; asyncio's default executor (`asyncio.to_thread`) is a
#   different pool of `min(32, cpu_count + 4)` threads.
# - `def` frees the loop only from *waiting*: pure-Python work in a thread still holds
#   the GIL (notebook 05).
# - A `def` endpoint that waits on I/O holds its token for the whole wait: at 40
#   concurrent waits the 41st request queues, and bursts come back in ⌈N/40⌉ waves;
#   each further trip through the limiter queues again behind them.
# - Fix it with `current_default_thread_limiter().total_tokens = ...` in the lifespan
#   (threads) or an async client in `async def` (connections); the exercise
#   `threadpool-exhaustion` grades both.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Graded exercise: `threadpool-exhaustion`.** The symptom is in
#   [exercises/threadpool-exhaustion/README.md](../exercises/threadpool-exhaustion/README.md); fix a copy of
#   [starter.py](../exercises/threadpool-exhaustion/starter.py), then, from the repository's folder,
#   `python -m autograder grade threadpool-exhaustion my_fix.py`. In a class it is the nbgrader notebook
#   [threadpool-exhaustion.ipynb](../exercises/source/threadpool-exhaustion/threadpool-exhaustion.ipynb).
# - **Your turn**, if you skipped it: section 8, `mine/04-stock.py`.
# - **Drills:** `python -m autograder drill predict-def-limiter`,
#   `python -m autograder drill predict-def-limiter-total`,
#   `python -m autograder drill fix-tiny-executor`,
#   `python -m autograder drill q-threadpool-size`
#   (or in [10 · drills](10_drills.ipynb)).
# - **Next:** [05 · CPU-bound work](05_cpu_bound.ipynb): work that never waits, and the GIL.
