# %% [markdown]
# # 04 · Thread-pool exhaustion: why 100 lookups come back in waves
#
# A plain `def` endpoint never blocks the event loop: FastAPI runs it in a worker
# thread. That fix has a ceiling, and this notebook measures it. The app below is the
# `threadpool-exhaustion` exercise's starter: `GET /legacy/{item_id}` calls a slow
# upstream (0.3 s per answer) with the synchronous `httpx.get`, inside `def`.
#
# You will see:
#
# 1. the two thread pools of an asyncio program, measured in this kernel: they are
#    **not** the same pool and not the same size;
# 2. 100 concurrent requests answered in **waves of 40**, with the thread limiter's
#    tokens watched live while the burst runs;
# 3. the two fixes, raising the limiter in the lifespan and an async client, and
#    what each one costs (threads and memory against connections).
#
# Every number below comes from this run: a real uvicorn server in its own process,
# a real upstream in another, 100 real connections. The `assert` cells are the claims.

# %%
import asyncio
import inspect
import os
import threading
import time
from pathlib import Path

import anyio
import anyio.to_thread
import ipywidgets as widgets
import starlette.concurrency
from _lesson import LeakCheck, limiter_figure
from _widgets import run_button, run_in_fresh_loop
from IPython.display import Markdown, display
from matplotlib.figure import Figure

from autograder import lab, plots
from autograder.serve import DEFAULT_EXECUTOR_WORKERS

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
# borrowing a token from AnyIO's default `CapacityLimiter`: **40 tokens**, shared
# by every `def` endpoint and dependency of the app. A request that finds no free
# token waits for one.
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

    def job(self) -> None:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(HOLD)
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
# ## 2. A hundred lookups, in waves of 40
#
# The app, as you would find it:

# %%
print(Path("apps/nb04_legacy.py").read_text())


# %% [markdown]
# `nb04_meter` adds nothing to the lookup: a task that notes the limiter's
# `borrowed_tokens` (and the number of live threads) every 5 ms, and a `/lab/costs`
# endpoint. Now 100 lookups at once, for 100 different items:

# %%
def run_burst(app_file: str, n: int = N, tokens: int | None = None) -> dict:
    """Serve the app, fire n lookups at once, collect what both sides saw."""
    with lab.serve(app_file) as app:
        if tokens is not None:  # the notebook's knob; the real fix is in the lifespan
            app.request("POST", f"/lab/limiter/{tokens}")
        app.request("GET", "/legacy/0")  # warm-up: imports, first thread, first client
        app.reset_stats()
        burst = app.burst("GET", [f"/legacy/{i}" for i in range(1, n + 1)])
        upstream = app.stats()["upstream"]
        limiter = app.request("GET", f"/lab/limiter?since={burst.started - 0.05}").json()
        costs = app.request("GET", "/lab/costs").json()
    starts = sorted(r["start"] for r in upstream["requests"])
    return {
        "burst": burst,
        "upstream_peak": upstream["peak"],
        "upstream_starts": [s - starts[0] for s in starts],
        "limiter": limiter,
        "max_borrowed": max((s[1] for s in limiter["trace"]), default=0),
        "costs": costs,
        "correct": all(
            r.json() == {"item_id": int(r.request.path.rsplit("/", 1)[1]),
                         "name": f"item-{r.request.path.rsplit('/', 1)[1]}"}
            for r in burst.answered
        ),
    }


def picture(run: dict, title: str) -> Figure:
    """The request timeline above the limiter's tokens in use, on one time axis."""
    return limiter_figure(run["burst"], run["limiter"], title)


legacy = run_burst("apps/nb04_legacy.py")
b = legacy["burst"]
starts = legacy["upstream_starts"]
print(f"answered {len(b.answered)}/{N} (all correct: {legacy['correct']}) in {b.total:.2f} s; "
      f"answers arrived in {b.waves()} waves (gaps over 100 ms)")
print(f"upstream: at most {legacy['upstream_peak']} lookups in flight at once; "
      f"the 41st reached it {starts[40]:.2f} s after the first, the 81st {starts[80]:.2f} s after")
print(f"limiter: at most {legacy['max_borrowed']} of {legacy['limiter']['total_tokens']} tokens borrowed")
display(picture(legacy, f"{N} concurrent lookups, def endpoint, default limiter"))

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
# ## 3. Fix 1: more tokens, set in the lifespan
#
# The limiter is a plain object you can change: `total_tokens` is writable. It
# belongs to the running event loop (AnyIO keeps it per loop), so set it where the
# loop is already running and before any request: in the lifespan.

# %%
print(Path("apps/nb04_raised_limiter.py").read_text())
raised = run_burst("apps/nb04_raised_limiter.py")
rb = raised["burst"]
print(f"answered {len(rb.answered)}/{N} in {rb.total:.2f} s, {rb.waves()} wave(s); upstream peak "
      f"{raised['upstream_peak']}; at most {raised['max_borrowed']} tokens borrowed")
display(picture(raised, f"{N} concurrent lookups, def endpoint, limiter raised to 200"))

# %%
assert len(rb.answered) == N and raised["correct"]
assert raised["upstream_peak"] >= 90, raised["upstream_peak"]  # one round, not three
assert raised["max_borrowed"] >= 90, raised["max_borrowed"]
assert rb.total < min(1.5, b.total), (rb.total, b.total)

# %% [markdown]
# ## 4. Fix 2: no thread at all, an async client
#
# An `async def` endpoint that awaits a shared `httpx.AsyncClient` holds no thread
# while the upstream thinks: waiting is the event loop's job, and a waiting request
# costs a socket and a few kilobytes. The cap is now the client's
# `max_connections` (httpx's default is 100), which you choose on purpose.

# %%
print(Path("apps/nb04_async_client.py").read_text())
asynced = run_burst("apps/nb04_async_client.py")
ab = asynced["burst"]
print(f"answered {len(ab.answered)}/{N} in {ab.total:.2f} s; upstream peak {asynced['upstream_peak']}; "
      f"at most {asynced['max_borrowed']} tokens borrowed")
display(picture(asynced, f"{N} concurrent lookups, async def + one AsyncClient"))

# %%
assert len(ab.answered) == N and asynced["correct"]
assert asynced["upstream_peak"] >= 90, asynced["upstream_peak"]
assert asynced["max_borrowed"] == 0, asynced["max_borrowed"]  # no worker thread used

# %% [markdown]
# ## 5. What each one costs
#
# The same three runs, measured inside the app's process right after its burst.
# AnyIO does not end an idle worker thread on its own: a later thread call stops the
# ones idle for 10 s or more. So the threads a burst needed are still there to count,
# and after a burst of 100 a quiet app keeps its 100 threads.

# %%
runs = {"def, 40 tokens (starter)": legacy, "def, 200 tokens": raised, "async def + AsyncClient": asynced}
rows = "\n".join(
    f"| {name} | {r['upstream_peak']} | {r['burst'].total:.2f} s | {r['costs']['threads']} "
    f"| {r['costs']['rss_mib']:.0f} MiB | {r['costs']['vms_mib']:.0f} MiB | {r['costs']['upstream_connections']} |"
    for name, r in runs.items()
)
display(Markdown(
    "| app | upstream peak | burst | threads | resident memory | address space | "
    "connections to the upstream kept open |\n| --- | --- | --- | --- | --- | --- | --- |\n" + rows
))

fig = Figure(figsize=(9, 3), layout="constrained")
left, right = fig.subplots(1, 2)
names = ["def, 40", "def, 200", "async"]
left.bar(names, [r["costs"]["threads"] for r in runs.values()], color=plots.OK_COLOUR)
left.set_title("threads in the app's process")
right.bar(names, [r["costs"]["upstream_connections"] for r in runs.values()], color=plots.BAD_COLOUR)
right.set_title("open connections to the upstream")
display(fig)

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
# ## 6. Turn the knobs
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
    display(picture(run, f"{requests} lookups, limiter of {tokens} tokens"))


display(run_button(
    try_it,
    description="Send the burst",
    requests=widgets.IntSlider(value=N, min=10, max=250, step=10, description="requests"),
    tokens=widgets.IntSlider(value=40, min=10, max=250, step=10, description="tokens"),
))

# %% [markdown]
# ## What to remember
#
# - `def` endpoints and `def` dependencies run on AnyIO worker threads behind one
#   `CapacityLimiter` of **40** tokens per app; asyncio's default executor
#   (`asyncio.to_thread`) is a different pool of `min(32, cpu_count + 4)` threads.
# - A `def` endpoint that waits on I/O holds its token for the whole wait: at 40
#   concurrent waits the 41st request queues, and bursts come back in ⌈N/40⌉ waves.
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
# - **Drills:** `python -m autograder drill predict-def-limiter`,
#   `python -m autograder drill predict-def-limiter-total`,
#   `python -m autograder drill fix-tiny-executor`,
#   `python -m autograder drill q-threadpool-size`
#   (or in [07 · drills](07_drills.ipynb)).
# - **Next:** [05 · CPU-bound work](05_cpu_bound.ipynb): work that never waits, and the GIL.
