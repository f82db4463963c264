# %% [markdown]
# # 02 · `def` vs `async def`
#
# The same 0.2 s wait, written three ways in a live FastAPI app, and hit with a burst of
# concurrent requests while a probe asks `/health` every 20 ms:
#
# | endpoint | written as | where the wait happens |
# | --- | --- | --- |
# | `/async-sleep` | `async def` + `await asyncio.sleep(0.2)` | on the loop, which is free meanwhile |
# | `/async-time-sleep` | `async def` + `time.sleep(0.2)` | on the loop's only thread, which is held |
# | `/def-sleep` | `def` + `time.sleep(0.2)` | in an AnyIO worker thread (at most 40 at once) |
#
# Then the same question for a real blocking call, an HTTP request to a slow upstream,
# and its three fixes: a **native async client**, **`asyncio.to_thread`**, a **plain `def`**.
# Last, your turn: a trip planner to fix, graded by the course's grader.
#
# Reading: about 15 minutes. Running: about 20 seconds.

# %%
# %matplotlib inline

import ipywidgets as widgets
from _lesson import LeakCheck, burst_figure
from _pictures import endpoint_timelines_figure
from _practice import REFERENCE, Tolerance, score
from _turns import TURNS
from _widgets import run_button
from httpx._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT_CONFIG
from IPython.display import Code, display

from autograder import lab

leaks = LeakCheck()  # the last cell checks that nothing started here is left running

APP = "apps/nb02_endpoints.py"
WAIT = 0.2  # the app's wait per request
UPSTREAM_DELAY = 0.3  # the course's upstream answers each request after 0.3 s
Code(filename=APP, language="python")

# %% [markdown]
# ## 1. A burst of 20 at each endpoint
#
# One server, three bursts of `N` requests sent at once; during each burst a probe sends
# `GET /health` every 20 ms *whatever happened to the previous probe* (an open loop: a
# frozen server cannot slow the probe down and hide its own freeze).
#
# **Predict first**, for the endpoint that calls `time.sleep(0.2)` inside `async def`:
# how many seconds until all 20 requests are answered, and how long does the worst
# `/health` probe wait meanwhile? Replace each `None` with your figure.

# %%
predicted_total = None  # your figure: seconds until all 20 requests to /async-time-sleep are answered
predicted_health = None  # your figure: seconds, the worst /health probe meanwhile

# %%
N = 20
SLEEPERS = ["/async-sleep", "/async-time-sleep", "/def-sleep"]

with lab.serve(APP) as app:
    sleep_bursts = {path: app.burst("GET", path, n=N, probe="/health") for path in SLEEPERS}

print(f"{'endpoint':20} {'all answered':>13} {'slowest':>8} {'/health worst':>14} {'waves':>6}")
for path, b in sleep_bursts.items():
    print(f"{path:20} {b.total:12.2f}s {b.slowest:7.2f}s {b.max_probe_latency * 1000:12.0f}ms {b.waves():6}")

# %%
blocked = sleep_bursts["/async-time-sleep"]
score("all 20 answered", predicted_total, blocked.total,
      tolerance=Tolerance(absolute=0.2, relative=0.25), unit="s")
score("the worst /health probe", predicted_health, blocked.max_probe_latency,
      tolerance=Tolerance(absolute=0.1, relative=0.3), unit="s")
for path, b in sleep_bursts.items():
    display(burst_figure(b, f"{N} x GET {path}"))

# %% [markdown]
# - **`async def` + `asyncio.sleep`**: the twenty waits overlap on the loop; every answer
#   arrives after about 0.2 s and `/health` answers in a few milliseconds throughout.
# - **`async def` + `time.sleep`**: a staircase. Each request holds the loop's only thread
#   for 0.2 s, so the last one waits about `20 x 0.2 = 4 s`, and `/health`, which has
#   nothing to do with the sleeping endpoint, freezes with it: a load balancer would call
#   this server dead.
# - **`def` + `time.sleep`**: FastAPI sends a `def` endpoint to a worker thread
#   (Starlette's `run_in_threadpool`, AnyIO's limiter of 40 tokens), so 20 requests wait
#   side by side and the loop stays free for `/health`.
#
# The claims, on this run's figures (generous margins for a shared 2-core machine):

# %%
free, blocked, threaded = (sleep_bursts[p] for p in SLEEPERS)
assert all(r.status == 200 for b in sleep_bursts.values() for r in b.responses)
assert free.total < 3 * WAIT and threaded.total < 3 * WAIT  # overlapping waits
assert blocked.total >= 0.75 * N * WAIT  # 20 blocking waits add up: at least 15 x 0.2 s
assert blocked.max_probe_latency >= 5 * WAIT  # /health froze for a second or more
assert free.max_probe_latency < 0.25 and threaded.max_probe_latency < 0.25  # and not here


# %% [markdown]
# ### Turn the knobs
#
# Pick an endpoint and a burst size, then press **Run**: it starts the app, sends the
# burst with the `/health` probe, draws the same picture and stops the app. Try 100
# requests at `/def-sleep`: AnyIO's 40 threads answer them in waves (notebook 04).

# %%
def explore(path: str, n: int) -> None:
    with lab.serve(APP) as app:
        b = app.burst("GET", path, n=n, probe="/health")
    print(f"{n} x {path}: all answered after {b.total:.2f} s, /health worst {b.max_probe_latency * 1000:.0f} ms, {b.waves()} wave(s)")
    display(burst_figure(b, f"{n} x GET {path}"))


run_button(
    explore,
    path=widgets.ToggleButtons(options=SLEEPERS, description="endpoint"),
    n=widgets.IntSlider(value=N, min=1, max=100, description="requests"),
)

# %% [markdown]
# ## 2. A real blocking call, and its three fixes
#
# `time.sleep` is a stand-in. The same freeze comes from any call that waits without
# `await`: a blocking HTTP client (`requests`, `httpx.get`), a database driver, `smtplib`,
# reading a large file. Here the endpoints ask the course's upstream for the weather; it
# answers each request after 0.3 s and counts how many it was serving at once.
#
# | endpoint | the call | why the loop stays free |
# | --- | --- | --- |
# | `/weather-blocking` | `httpx.get(...)` in `async def` | it does not: the bug |
# | `/weather-async` | `await client.get(...)`, one shared `httpx.AsyncClient` | the native async client awaits the socket |
# | `/weather-to-thread` | `await asyncio.to_thread(httpx.get, ...)` | the call runs in asyncio's default executor |
# | `/weather-def` | `httpx.get(...)` in a plain `def` endpoint | FastAPI runs it in an AnyIO worker thread |
#
# The blocking version gets 10 requests (it needs 0.3 s for each, one after another);
# each fix gets 20.
#
# **Predict first:** with 10 requests at `/weather-blocking` at once, how many calls
# does the upstream have in flight at the same moment, at most?

# %%
predicted_upstream_peak = None  # your figure: calls in flight at once, for 10 requests at /weather-blocking

# %%
FIXES = ["/weather-async", "/weather-to-thread", "/weather-def"]
weather_bursts, upstream_peaks = {}, {}

with lab.serve(APP) as app:
    for path, n in [("/weather-blocking", 10)] + [(p, 20) for p in FIXES]:
        app.reset_stats()
        weather_bursts[path] = app.burst("GET", [f"{path}/city{i}" for i in range(n)], probe="/health")
        upstream_peaks[path] = app.stats()["upstream"]["peak"]

print(f"{'endpoint':20} {'n':>3} {'all answered':>13} {'/health worst':>14} {'upstream peak':>14}")
for path, b in weather_bursts.items():
    print(f"{path:20} {len(b.responses):3} {b.total:12.2f}s {b.max_probe_latency * 1000:12.0f}ms {upstream_peaks[path]:14}")

# %%
score("the upstream's peak for /weather-blocking", predicted_upstream_peak,
      upstream_peaks["/weather-blocking"], tolerance=Tolerance(absolute=0), unit="calls")
display(endpoint_timelines_figure(weather_bursts, upstream_peaks))
display(burst_figure(weather_bursts["/weather-blocking"], "10 x GET /weather-blocking: the loop waits for each call"))

# %%
blocking = weather_bursts["/weather-blocking"]
assert all(r.status == 200 for b in weather_bursts.values() for r in b.responses)
assert upstream_peaks["/weather-blocking"] == 1  # the upstream saw one request at a time
assert blocking.total >= 0.75 * 10 * UPSTREAM_DELAY  # so the answers queued up
assert blocking.max_probe_latency >= 3 * UPSTREAM_DELAY  # and /health froze meanwhile
for path in FIXES:
    b = weather_bursts[path]
    assert upstream_peaks[path] >= 15, (path, upstream_peaks[path])  # 20 calls in flight together
    assert b.total < 3 * UPSTREAM_DELAY, (path, b.total)  # all answered in about one upstream delay
    assert b.max_probe_latency < 0.25, (path, b.max_probe_latency)  # /health stayed fast

# %% [markdown]
# ### What each fix costs
#
# - **Native async client** (`httpx.AsyncClient`, `aiosmtplib`, `asyncpg`...): no thread
#   per call, so thousands of calls can wait at once. It needs an async library for that
#   dependency, and one client shared for the app's life (created in the `lifespan`), not
#   one per request: a client owns a connection pool, and **the pool has limits** (below).
# - **`asyncio.to_thread`**: keeps the blocking library. Each call holds a thread of
#   asyncio's **default executor**: `min(32, os.cpu_count() + 4)` threads by default (6 on
#   2 cores, see notebook 00; `os.cpu_count()` is the host's CPUs, not a container's CPU
#   quota), so the 7th concurrent call waits for a thread. The course's harness raises
#   that executor to 40 in every served app, which is why 20 calls went at once here; in
#   your service, size it yourself if you rely on it.
# - **Plain `def`**: the least code. Each request holds one of AnyIO's **40** threads for
#   its whole duration, a pool shared with every other `def` endpoint, `def` dependency
#   and `def` background task: past 40 slow calls at once, requests queue in waves
#   (notebook 04).
#
# Whichever you choose, the rule is the one notebook 01 measured: inside `async def`,
# every wait must be an `await`.
#
# **An async client's pool.** httpx's defaults, read from the installed httpx:

# %%
print("httpx default limits: ", DEFAULT_LIMITS)
print("httpx default timeouts:", DEFAULT_TIMEOUT_CONFIG)
assert (DEFAULT_LIMITS.max_connections, DEFAULT_LIMITS.max_keepalive_connections) == (100, 20)
assert DEFAULT_TIMEOUT_CONFIG.pool == 5.0

# %% [markdown]
# At most **100 connections** at once, of which **20** are kept alive for reuse when
# idle, and a request that finds all 100 busy waits for one **at most 5 s**, then raises
# `httpx.PoolTimeout`. So one shared client caps the upstream calls of the whole app at
# 100 in flight: the 101st waits, and under a long burst some fail. The app above sets
# `httpx.Limits(max_connections=100)` on purpose (the default, written where a reader
# sees the cap) and keeps 20 alive: after a burst of 20 all its connections stay open for
# the next one. Choose `max_connections` from what the upstream can take, and
# `max_keepalive_connections` near your usual concurrency, or every burst past 20 opens
# (and then closes) new connections. The course's own load client is not httpx: it opens
# one connection per request, so no pool limit shapes what the course measures.
#
# ## 3. Your turn: a trip planner
#
# `GET /trip/{a}/{b}` asks the weather service (the same 0.3 s upstream) about two
# cities and returns both forecasts. The cell below copies it to `mine/02-trip.py` (once:
# your edits are kept). Make 20 trips at once come back within a second, their upstream
# calls in flight together, with the loop free. Any of the three fixes above will do;
# one of them can ask about both cities at once.

# %%
trip = TURNS["02-trip"]
display(Code(filename=trip.start(), language="python"))

# %%
verdict = trip.check()  # grades mine/02-trip.py with the grader's checks; rerun after each edit

# %%
if REFERENCE:  # executed headless (CI): the reference answer must pass
    assert verdict.passed, verdict.render()

# %% [markdown]
# Stuck? Run `trip.show_answer()` in a new cell to see one answer.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Graded exercises: `blocking-http`** (a weather proxy,
#   [README](../exercises/blocking-http/README.md), [starter.py](../exercises/blocking-http/starter.py))
#   and **`blocking-smtp`** (sign-ups that send email, [README](../exercises/blocking-smtp/README.md),
#   [starter.py](../exercises/blocking-smtp/starter.py)). Fix a copy, then from the
#   repository's folder `python -m autograder grade blocking-http my_fix.py` (or
#   `grade blocking-smtp`). In a class: the nbgrader notebooks
#   [blocking-http.ipynb](../exercises/source/blocking-http/blocking-http.ipynb) and
#   [blocking-smtp.ipynb](../exercises/source/blocking-smtp/blocking-smtp.ipynb).
# - **Drills:** `python -m autograder drill predict-def-sleep`,
#   `python -m autograder drill predict-sync-http-in-async`,
#   `python -m autograder drill predict-to-thread-default`,
#   `python -m autograder drill fix-blocking-dependency`,
#   `python -m autograder drill q-sync-client` (or in [10 · drills](10_drills.ipynb)).
# - **Next:** [03 · background tasks](03_background_tasks.ipynb): work that runs after the
#   response, and what happens to it when it fails or the server stops.
