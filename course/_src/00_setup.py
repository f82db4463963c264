# %% [markdown]
# # 00 · Setup: can this machine run the course?
#
# ## The course at a glance
#
# Each notebook shows one way a FastAPI service stalls, measured live, then has you fix
# one yourself. Each lesson is practised by a **graded exercise** (a broken service whose
# fix the grader measures) and by **drills** (interview practice: predict a figure, then
# measure it; fix a service against the clock).
#
# | notebook | what you measure | graded exercise | drills, e.g. |
# | --- | --- | --- | --- |
# | 00 setup (this one) | versions, the two thread pools, a server that answers | | |
# | [01 the event loop](01_event_loop.ipynb) | one loop, one thread; a blocking call stalls every task | `blocking-sleep` | `predict-sleep-in-async` |
# | [02 `def` vs `async def`](02_def_vs_async.ipynb) | which wait frees the loop; a blocking HTTP call and three fixes | `blocking-http`, `blocking-smtp` | `predict-sync-http-in-async`, `fix-blocking-dependency` |
# | [03 background tasks](03_background_tasks.ipynb) | after the response, in order; failures; a deploy vs a kill | `background-tasks` | `predict-bg-order`, `fix-background-sync-http` |
# | [04 thread-pool exhaustion](04_threadpool_exhaustion.ipynb) | 100 `def` requests in waves of 40 | `threadpool-exhaustion` | `predict-def-limiter`, `fix-tiny-executor` |
# | [05 CPU-bound work](05_cpu_bound.ipynb) | the GIL, `to_thread` vs a process pool | `cpu-bound` | `predict-cpu-in-async` |
# | [06 production](06_production.ipynb) | finding the blocker in a running service | (all of them) | `fix-file-write`, `fix-lock-serialises` |
# | [07 more stalls](07_more_stalls.ipynb) | streaming, fan-out, timeouts, a starved `/health`; a database pool | `streaming`, `fan-out`, `timeouts`, `starved-health` | `predict-stream-blocking-generator`, `predict-fanout-429`, `predict-timeout-around-thread`, `predict-starved-health` |
# | [08 durable jobs](08_durable_jobs.ipynb) | one crash, four queues (`BackgroundTasks`, huey, a lease table, arq on Redis): lost, twice, time to recover | `durable-jobs` | `predict-crash-bgtasks`, `predict-crash-huey`, `fix-lost-on-crash` |
# | [09 streams](09_streams.ipynb) | hundreds of idle SSE listeners in one process; the thread a sync stream holds; tokens wasted after a disconnect; keep-alives; how a disconnect is noticed; a WebSocket room with one stalled reader, the keepalive, a bounded queue | `token-stream`, `ws-broadcast` | `predict-stream-sync-generator`, `predict-ws-stalled-reader` |
# | [10 drills](10_drills.ipynb) | every drill, in the notebook | | all |
# | [11 capstone](11_capstone.ipynb) | scan an unfamiliar service: three stalls found, fixed, scanned again | | `fix-blocking-middleware`, `fix-tiny-executor` |
#
# **Which path uses what.**
#
# - **On your own:** the notebooks in order; at the end of each, its exercise: the
#   symptom in `exercises/<id>/README.md`, your fix of `exercises/<id>/starter.py`, graded
#   with `python -m autograder grade <id> <your file>`.
# - **In a class:** the same exercises as nbgrader assignments
#   (`exercises/source/<id>/<id>.ipynb`); your instructor hands them out and grades them
#   ([docs/instructor.md](../docs/instructor.md)). The notebooks are the lectures.
# - **Before an interview:** [10 drills](10_drills.ipynb), or in a terminal
#   `python -m autograder drill --random 5`; the notebooks when a drill surprises you.

# %% [markdown]
# ## This notebook
#
# Every notebook in this course starts a real uvicorn server, sends it real concurrent
# requests, and measures what happened **from outside** the server. This one checks the
# ground the others stand on:
#
# 1. the versions of Python and of the libraries whose behaviour the course measures;
# 2. the CPU count, and the sizes of **two different thread pools** that many guides mix up;
# 3. that a server starts in a process of its own, answers, and is stopped afterwards.
#
# Reading: about 5 minutes. Running: a few seconds (*Run → Run All Cells*).

# %%
# %matplotlib inline
import asyncio
import importlib.metadata
import inspect
import os
import platform
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
from _lesson import LeakCheck, cpu_quota
from _pictures import thread_pools_figure
from _widgets import run_in_fresh_loop
from IPython.display import display

from autograder import lab

leaks = LeakCheck()  # the last cell checks that nothing started here is left running

# %% [markdown]
# ## 1. Versions
#
# The facts this course states about FastAPI, Starlette, uvicorn, httpx and AnyIO are
# checked by running them, on these versions. If a later version changes a behaviour, the
# notebook that demonstrates it fails its own check instead of teaching something stale.

# %%
versions = {"python": platform.python_version()}
for name in ("fastapi", "starlette", "uvicorn", "httpx", "anyio"):
    versions[name] = importlib.metadata.version(name)
for name, version in versions.items():
    print(f"{name:10} {version}")
print(f"{'CPUs':10} {os.cpu_count()}")

assert tuple(map(int, platform.python_version_tuple()[:2])) >= (3, 11)


# %% [markdown]
# ## 2. Two thread pools, two sizes
#
# A `def` endpoint cannot run on the event loop: the loop would wait for it, and so would
# every other request. FastAPI hands each `def` endpoint, and each `def` dependency, to
# Starlette's `run_in_threadpool`, which is `anyio.to_thread.run_sync`: it runs the
# function in an **AnyIO worker thread**, and at most as many run at once as AnyIO's
# default `CapacityLimiter` has tokens: **40**.
#
# `asyncio.to_thread(f)` and `loop.run_in_executor(None, f)` use a *different* pool:
# asyncio's **default executor**, a `concurrent.futures.ThreadPoolExecutor` whose size
# defaults to **`min(32, os.cpu_count() + 4)`**. That formula is the one often quoted
# for FastAPI's thread pool; it is not FastAPI's.
#
# AnyIO's limiter belongs to the running event loop, so we read it from inside one: a
# notebook cell may `await` at top level, and IPython runs it on the kernel's own loop.

# %%
async def anyio_tokens() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


tokens = await anyio_tokens()
stock_workers = min(32, (os.cpu_count() or 1) + 4)
executor = ThreadPoolExecutor()  # what asyncio creates for its default executor
executor_workers = executor._max_workers  # no thread starts until work is submitted
executor.shutdown()

print(f"AnyIO default limiter: {tokens:.0f} tokens (def endpoints, def dependencies)")
print(f"asyncio default executor: {executor_workers} workers = min(32, {os.cpu_count()} + 4)")
assert tokens == 40
assert executor_workers == stock_workers

# %% [markdown]
# **Which CPUs does that formula count?** `os.cpu_count()` is the host's CPUs. In a
# container, the CPU time you may use is a cgroup *quota* (`docker run --cpus=1`, a
# Kubernetes CPU limit), which `os.cpu_count()` does not see: a pod limited to one CPU
# on a 64-CPU node gets `min(32, 64 + 4) = 32` executor threads. Here is the formula as
# installed, beside what this machine reports:

# %%
formula_line = next(
    line.strip() for line in inspect.getsource(ThreadPoolExecutor.__init__).splitlines()
    if "max_workers = min(32" in line
)
quota, quota_file = cpu_quota()
print("ThreadPoolExecutor's default, as installed:", formula_line)
print(f"os.cpu_count():                 {os.cpu_count()}")
print(f"CPUs this process may run on:   {len(os.sched_getaffinity(0))} (affinity)")
print(f"cgroup CPU quota:               {'none' if quota is None else f'{quota:g} CPUs'} ({quota_file})")
assert "os.cpu_count()" in formula_line  # the host's count, whatever the quota says

# %% [markdown]
# (Python 3.13 changed the formula to `os.process_cpu_count()`, which honours CPU
# affinity, still not a cgroup quota.) Size a pool you depend on yourself, from what the
# container may use.

# %% [markdown]
# Reading a setting is not measuring it. Below, 50 tasks each hold a thread for 0.25 s,
# sent through each pool in turn; a counter notes how many threads held one at the same
# moment. The kernel's own loop is left alone: each measurement runs on a fresh loop
# (`asyncio.run`) in a thread of its own, and that loop's executor is shut down at the end.

# %%
TASKS, HOLD = 50, 0.25


def measure(pool: str) -> tuple[list[dict], int, float]:
    """Run TASKS blocking sleeps through one pool; return bars, peak concurrency, total s."""
    lock = threading.Lock()
    running, peak, bars = 0, 0, []

    async def main() -> float:
        t0 = time.monotonic()

        def hold() -> None:
            nonlocal running, peak
            began = time.monotonic()
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(HOLD)
            with lock:
                running -= 1
            bars.append({"start_ms": (began - t0) * 1000, "end_ms": (time.monotonic() - t0) * 1000, "status": 200})

        if pool == "anyio":
            await asyncio.gather(*(anyio.to_thread.run_sync(hold) for _ in range(TASKS)))
        else:
            await asyncio.gather(*(asyncio.to_thread(hold) for _ in range(TASKS)))
        return time.monotonic() - t0

    total = run_in_fresh_loop(main)
    return bars, peak, total


anyio_bars, anyio_peak, anyio_total = measure("anyio")
executor_bars, executor_peak, executor_total = measure("asyncio")
print(f"anyio.to_thread.run_sync: at most {anyio_peak} at once, {anyio_total:.2f} s for {TASKS} tasks")
print(f"asyncio.to_thread:        at most {executor_peak} at once, {executor_total:.2f} s for {TASKS} tasks")

# %%
display(thread_pools_figure(anyio_bars, anyio_peak, executor_bars, executor_peak, TASKS))

# %% [markdown]
# Each block of bars is one **wave**: as many tasks as the pool has threads run together,
# and the rest wait for a thread to come free. The claims, checked on this run's figures:

# %%
# AnyIO ran 40 at once, so 50 tasks took two waves; the executor ran its stock size at once.
assert anyio_peak == 40, anyio_peak
assert executor_peak == stock_workers, executor_peak
executor_waves = -(-TASKS // stock_workers)  # ceiling division
assert executor_total >= 0.9 * executor_waves * HOLD  # e.g. 9 waves of 0.25 s on 2 CPUs
assert anyio_total < executor_total or stock_workers >= 40

# %% [markdown]
# **What the grader changes.** Inside every app the course serves, the grading harness
# (`autograder/harness/serve.py`) sets asyncio's default executor to **40** workers, the size of
# AnyIO's limiter, so that `asyncio.to_thread` and a `def` endpoint get the same number of
# threads wherever the course measures them. Your own service keeps the stock size unless
# you set it yourself (`loop.set_default_executor(ThreadPoolExecutor(max_workers=...))`).
#
# ## 3. A server starts and answers
#
# `lab.serve(path)` starts uvicorn on the app in `path` in a process of its own (beside
# the course's dependency servers: a slow HTTP upstream and an SMTP server), and stops
# them all when the `with` block ends, even when a cell fails. The app below answers
# `/hello` and reports the two pool sizes *as seen inside the served process*.

# %%
started = time.monotonic()
with lab.serve("apps/nb00_hello.py") as app:
    ready_after = time.monotonic() - started
    hello = app.request("GET", "/hello")
    pools = app.request("GET", "/pools").json()
    print(f"serving on {app.url} after {ready_after:.1f} s")
    print("GET /hello ->", hello.status, hello.json(), f"in {hello.latency * 1000:.1f} ms (pid inside the sandbox)")
    print("GET /pools ->", pools)

# %%
assert hello.status == 200 and hello.json()["hello"] == "world"
assert hello.json()["pid"] != os.getpid()  # the app ran in a process of its own
assert pools["anyio_limiter_tokens"] == 40
assert pools["default_executor_workers"] == 40  # fixed by the grading harness, not the stock size

# %% [markdown]
# ## 4. Nothing left behind
#
# Every notebook ends by closing the lab and checking that no server process and no thread
# it started is still alive.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Next:** [01 · the event loop](01_event_loop.ipynb): what `await` does, and what a
#   blocking call does to everything else on the loop.
# - **Graded exercises:** `python -m autograder list` lists them (typed in JupyterLab's
#   terminal, File → New → Terminal, where `python` is the course's). The first,
#   `blocking-sleep` ([its symptom](../exercises/blocking-sleep/README.md)), is the one
#   notebook 01 prepares you for.
# - **Drills:** try one now, to see how they work:
#   `python -m autograder drill predict-async-sleep` (or in [10 · drills](10_drills.ipynb)).
