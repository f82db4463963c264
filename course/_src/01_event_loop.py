# %% [markdown]
# # 01 · The event loop
#
# FastAPI runs every `async def` endpoint on **one event loop, in one thread**. Before
# serving anything, this notebook looks at that loop in plain asyncio:
#
# 1. what a coroutine is, and what `await` does;
# 2. one loop, one thread: many coroutines take turns on a single thread;
# 3. a **loop-lag meter**: how late the loop is to wake a 5 ms timer;
# 4. `time.sleep` against `asyncio.sleep` in 20 concurrent tasks, as a timeline;
# 5. your turn: a small server that stalls, for you to fix and have graded.
#
# Reading: about 10 minutes. Running: a few seconds. IPython lets a cell `await` at top
# level: it runs the cell on the kernel's own event loop, so the examples below need no
# `asyncio.run`.

# %%
# %matplotlib inline
import asyncio
import inspect
import threading
import time

import ipywidgets as widgets
from _lesson import LeakCheck
from _pictures import tasks_and_lag_figure
from _practice import REFERENCE, Tolerance, score
from _turns import TURNS
from _widgets import run_button, run_in_fresh_loop
from IPython.display import Code, display

from autograder.harness.lag import LagMonitor

leaks = LeakCheck()  # the last cell checks that nothing started here is left running

# %% [markdown]
# ## 1. A coroutine runs only when awaited
#
# Calling an `async def` function runs none of its body: it returns a **coroutine
# object**. `await` runs it, and wherever the coroutine itself awaits something that is
# not ready (a timer, a socket), it hands control back to the event loop until it is.

# %%
log: list[str] = []


async def brew(name: str, seconds: float) -> str:
    log.append(f"{name} starts")
    await asyncio.sleep(seconds)  # hands the loop back until the timer fires
    log.append(f"{name} done")
    return name


pending = brew("tea", 0.1)
print("after calling brew():", type(pending).__name__, "- log:", log)
result = await pending
print("after awaiting it:   ", repr(result), "- log:", log)
assert log == ["tea starts", "tea done"]

# %% [markdown]
# ## 2. One loop, one thread, taking turns
#
# `asyncio.gather` wraps each coroutine in a **task** and lets the loop run them all.
# While one waits for its timer, the loop runs another. Three brews of 0.2 s take about
# 0.2 s together, and every one of them ran on the same thread, under the same loop.

# %%
seen: list[tuple[int, int]] = []


async def brew_and_note(name: str) -> str:
    seen.append((threading.get_ident(), id(asyncio.get_running_loop())))
    await asyncio.sleep(0.2)
    return name


t0 = time.monotonic()
names = await asyncio.gather(brew_and_note("tea"), brew_and_note("coffee"), brew_and_note("mate"))
together = time.monotonic() - t0
print(f"{names} in {together:.2f} s (one after another: 0.60 s)")
print("threads used:", {ident for ident, _ in seen}, "- the kernel's main thread:", threading.main_thread().ident)

# %%
assert together < 0.4  # concurrent: well under the 0.6 s of running them in turn
assert {ident for ident, _ in seen} == {threading.main_thread().ident}  # one thread
assert len({loop for _, loop in seen}) == 1  # one loop

# %% [markdown]
# The loop switches between tasks **only at an `await`** of something not ready. Code that
# never awaits (a `time.sleep`, a blocking socket call, a long computation) keeps the
# thread, and every other task on the loop waits until it returns.
#
# ## 3. A loop-lag meter
#
# How do we see that from outside? A sampler task sleeps 5 ms, again and again, and notes
# how late each wake-up was: on a free loop it is late by a fraction of a millisecond; on
# a blocked loop, by as long as the loop was held. The course's engine uses this very
# sampler inside every served app (`autograder/harness/lag.py`):

# %%
print(inspect.getsource(LagMonitor.sampler))


# %%
async def with_meter(workload) -> tuple[list[tuple[float, float]], float]:
    """Run `workload()` while the 5 ms sampler watches this loop; return (samples, seconds)."""
    samples: list[tuple[float, float]] = []
    monitor = LagMonitor(None, lambda r: samples.append((r["t"], r["lag"])), trace_above=-1.0)
    meter = asyncio.create_task(monitor.sampler())
    await asyncio.sleep(0.05)  # a quiet stretch before the work, for comparison
    t0 = time.monotonic()
    await workload()
    elapsed = time.monotonic() - t0
    await asyncio.sleep(0.05)
    meter.cancel()
    return samples, elapsed


idle, _ = await with_meter(lambda: asyncio.sleep(0.3))
print(f"idle loop: {len(idle)} samples, latest wake-up {max(lag for _, lag in idle) * 1000:.2f} ms late")

# %% [markdown]
# ## 4. `time.sleep` against `asyncio.sleep`, 20 tasks at once
#
# Twenty tasks are created together, like twenty requests arriving at once. Each waits
# 0.1 s: with `asyncio.sleep` in the first run, with `time.sleep` in the second. Each bar
# runs from the moment the 20 tasks were created to the moment that task finished.
#
# **Predict first.** Twenty tasks, each `time.sleep(0.1)` inside `async def`, gathered
# at once: how many seconds until all twenty are done? Write your figure below before
# running the measurement: replace `None` with it, then run the cell.

# %%
predicted_blocking_total = None  # your figure: seconds, for 20 x time.sleep(0.1) in async def

# %%
N, WAIT = 20, 0.1


def run_tasks(n: int, blocking: bool):
    """A workload of n tasks that each wait WAIT s; fills `bars` as they finish."""
    bars: list[dict] = []

    async def one() -> None:
        if blocking:
            time.sleep(WAIT)  # noqa: ASYNC251  (the lesson: holds the loop's only thread)
        else:
            await asyncio.sleep(WAIT)
        bars.append({"start_ms": 0.0, "end_ms": (time.monotonic() - t0) * 1000, "status": 200})

    async def workload() -> None:
        nonlocal t0
        t0 = time.monotonic()
        await asyncio.gather(*(one() for _ in range(n)))

    t0 = 0.0
    return bars, workload


async_bars, workload = run_tasks(N, blocking=False)
async_lag, async_total = await with_meter(workload)
blocking_bars, workload = run_tasks(N, blocking=True)
blocking_lag, blocking_total = await with_meter(workload)
for label, total, lag in (("asyncio.sleep", async_total, async_lag), ("time.sleep", blocking_total, blocking_lag)):
    print(f"{label:14} {N} tasks in {total:.2f} s; loop late by up to {max(late for _, late in lag) * 1000:.0f} ms")


score("20 tasks x time.sleep(0.1)", predicted_blocking_total, blocking_total,
      tolerance=Tolerance(absolute=0.1, relative=0.25), unit="s")

# %%
display(tasks_and_lag_figure(async_bars, async_lag, f"{N} tasks x asyncio.sleep({WAIT}): all done together"))
display(tasks_and_lag_figure(blocking_bars, blocking_lag, f"{N} tasks x time.sleep({WAIT}): one after another"))

# %% [markdown]
# With `asyncio.sleep` the twenty waits overlap: every bar ends at about 100 ms and the
# meter never sees the loop late. With `time.sleep` the bars form a **staircase**: each
# task held the only thread for its whole wait, so the twenty waits add up to about 2 s,
# and the meter's one sample that should have woken after 5 ms woke about 2 s late: for
# those two seconds, *nothing else on the loop ran*. The claims, on this run's figures:

# %%
max_async_lag = max(lag for _, lag in async_lag)
max_blocking_lag = max(lag for _, lag in blocking_lag)
assert async_total < 3 * WAIT  # 20 concurrent waits take about one wait
assert blocking_total >= 0.75 * N * WAIT  # 20 blocking waits add up (at least 15 x 0.1 s)
assert max_blocking_lag >= 0.75 * N * WAIT  # and the loop was held for all of it
assert max_async_lag < 0.1  # the free loop woke its timer on time (generous margin)


# %% [markdown]
# ### Turn the knobs
#
# Pick the number of tasks and how they wait, then press **Run**. This runs on a fresh
# event loop in a thread of its own (a button's handler cannot `await` on the kernel's
# loop), with the same meter.

# %%
def explore(n: int, how: str) -> None:
    bars, workload = run_tasks(n, blocking=(how == "time.sleep"))
    lag, total = run_in_fresh_loop(lambda: with_meter(workload))
    print(f"{n} tasks with {how}: {total:.2f} s; loop late by up to {max(late for _, late in lag) * 1000:.0f} ms")
    display(tasks_and_lag_figure(bars, lag, f"{n} tasks x {how}({WAIT})"))


run_button(
    explore,
    n=widgets.IntSlider(value=N, min=1, max=50, description="tasks"),
    how=widgets.ToggleButtons(options=["asyncio.sleep", "time.sleep"], description="wait with"),
)

# %% [markdown]
# ## What this means for a server
#
# uvicorn runs a FastAPI app on exactly such a loop. An `async def` endpoint that calls
# `time.sleep`, a blocking HTTP client or a slow computation does to every other request,
# `/health` included, what `time.sleep` did to the meter above.
#
# ## 5. Your turn: a tea shop that brews one pot at a time
#
# `GET /brew/{pot}` brews a pot of tea in 0.3 s. One customer is served in 0.3 s; twenty
# at once, and the last waits six seconds while even the health check stalls. The cell
# below copies the shop to `mine/01-brew.py` (only once: your edits are kept) and shows
# it. Open that file (*File → Open from Path…*, or the file browser), make twenty pots
# brew **together**, each still taking its 0.3 s, save it, and run the check.
#
# The check is the course's grader, with its own checks: your file is served by a real
# uvicorn in a process of its own, 20 requests arrive at once, the loop is probed every
# 20 ms from outside, and if a line of your code held the loop, it names the line.

# %%
brew = TURNS["01-brew"]
display(Code(filename=brew.start(), language="python"))

# %%
verdict = brew.check()  # grades mine/01-brew.py; rerun after each edit

# %%
if REFERENCE:  # executed headless (CI): the reference answer must pass
    assert verdict.passed, verdict.render()

# %% [markdown]
# Stuck? Run `brew.show_answer()` in a new cell to see one answer. Note where the
# untouched shop's diagnosis pointed: not at the endpoint, at the helper it awaited.
# `await` on a coroutine does not make what the coroutine does non-blocking.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Graded exercise: `blocking-sleep`.** The symptom is in
#   [exercises/blocking-sleep/README.md](../exercises/blocking-sleep/README.md); fix a copy
#   of [starter.py](../exercises/blocking-sleep/starter.py), then, from the repository's
#   folder, `python -m autograder grade blocking-sleep my_fix.py`. In a class it is the
#   nbgrader notebook [blocking-sleep.ipynb](../exercises/source/blocking-sleep/blocking-sleep.ipynb).
# - **Drills:** `python -m autograder drill predict-sleep-in-async`,
#   `python -m autograder drill predict-async-sleep`, `python -m autograder drill q-def-or-async`
#   (or in [10 · drills](10_drills.ipynb)).
# - **Next:** [02 · `def` vs `async def`](02_def_vs_async.ipynb): the same stall on a live
#   server, and the three ways to fix it.
