# %% [markdown]
# # 06 · Production: finding the blocker in code you did not write
#
# The earlier notebooks knew where the bug was. In production you get a symptom:
#
# > Ops: "the shop's health check fails now and then under load, and product pages get
# > slow at the same moments. Nothing in the error logs."
#
# The service is `apps/nb06_shop.py`, a Corner Shop API you have just inherited (a
# catalogue, stock levels from a warehouse service, baskets, checkout). Don't read it
# yet. This notebook goes the way an incident does:
#
# 1. reproduce the symptom under load and measure it from outside;
# 2. the shop's loop-lag middleware: *that* the loop stalled, and which routes ran;
# 3. a stack sample taken during the stall (the grader's diagnosis): *which line*;
# 4. fix and verify, with the same measurement;
# 5. the tools that did not catch it, and why: asyncio's debug mode, ruff's `ASYNC`
#    rules (and which codes really exist);
# 6. a second bug in the same file: an `asyncio.Lock` that a thread walks through;
# 7. what `uvicorn --workers 4` would and would not have hidden;
# 8. your turn: another service, another blocker to find and fix;
# 9. a checklist.

# %%
import asyncio
import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import ipywidgets as widgets
from _lesson import LeakCheck, burst_figure
from _practice import REFERENCE, Tolerance, score
from _turns import TURNS
from _widgets import run_button
from IPython.display import Code, Markdown, display
from matplotlib.figure import Figure

from autograder import lab, plots

leaks = LeakCheck()  # the last cell checks that nothing started here is left running
REPO = Path.cwd().parent
SHOP = "apps/nb06_shop.py"
LIMIT_MS = 100
UPSTREAM_WAIT = 0.3  # the warehouse service answers after 0.3 s

# %% [markdown]
# ## 1. Reproduce: traffic like production's, `/health` probed from outside
#
# Twelve requests at once, half of them product pages, half the product list, while a
# prober asks `/health` every 20 ms like a load balancer would.
#
# **Predict first**, without reading the shop: the warehouse answers in 0.3 s. How many
# seconds until the slowest of the twelve is answered? (The value filled in is the
# answer for a healthy service: replace it if you think otherwise.)

# %%
predicted_slowest = 0.3  # seconds until the slowest of the 12 requests is answered

# %%
paths = [p for i in range(1, 7) for p in (f"/products/{i}", "/products?limit=5")]
with lab.serve(SHOP) as shop:
    burst = shop.burst("GET", paths, probe="/health")
    inside = shop.inside()
    diagnosis = shop.diagnosis(since=burst.started)

health_p95 = burst.probe_p95() * 1000
print(f"{len(burst.answered)}/{len(paths)} answered in {burst.total:.2f} s, slowest {burst.slowest:.2f} s; "
      f"/health p95 {health_p95:.0f} ms, worst {burst.max_probe_latency * 1000:.0f} ms")
score("the slowest of 12", predicted_slowest, burst.slowest,
      tolerance=Tolerance(absolute=0.2, relative=0.25), unit="s")
display(burst_figure(burst, "12 requests to the shop, /health probed every 20 ms"))

# %%
assert len(burst.answered) == len(paths)
assert health_p95 > 3 * LIMIT_MS, health_p95  # the symptom, reproduced
# Six upstream waits of 0.3 s that could overlap took one after another instead:
assert burst.slowest >= 6 * UPSTREAM_WAIT * 0.9, burst.slowest

# %% [markdown]
# The staircase says it: requests are served one after another, each step one
# upstream wait long, and `/health` waits with them. Something holds the event loop.
# Which of the shop's endpoints, and which line?
#
# ## 2. The loop-lag middleware: *that* it stalled, and *when*
#
# The shop already runs a small pure ASGI middleware (`apps/nb06_lagwatch.py`,
# reusable on any ASGI app): a background task that sleeps 50 ms at a time and logs
# a WARNING when it wakes up more than 100 ms late, with the routes of the requests
# that ran during the late window. It is cheap enough to leave on in production.

# %%
print(Path("apps/nb06_lagwatch.py").read_text())

# %%
warnings = [r for r in inside if r.get("kind") == "log" and r["logger"] == "looplag"]
for w in warnings:
    print(f"{w['level']}: {w['message']}")
lateness = [int(re.search(r"late by (\d+) ms", w["message"]).group(1)) for w in warnings]
assert warnings and max(lateness) > 250, lateness
assert any("GET /products/{item_id}" in w["message"] for w in warnings)

# %% [markdown]
# These lines are what production would have logged: stalls of hundreds of ms,
# with product pages (`GET /products/{item_id}`) running in every late window. The
# list page shows up too, and so do the `/health` probes: a stall's victims run in
# the same window as its cause, so the log narrows the search, it does not convict.
#
# ## 3. A stack sample at the stall: *which line*
#
# While the loop is stalled for more than 50 ms, a watchdog thread in the app's
# process reads the loop thread's stack every 10 ms (`sys._current_frames()`, the
# same thing `py-spy dump` does from outside a process). A blocking call sits in one
# frame for the whole stall, so the samples agree on it. This is the grader's
# diagnosis:

# %%
print("diagnosis:", diagnosis)
samples = [r for r in inside if r.get("kind") == "stall_sample" and r["t"] >= burst.started]
display(Markdown(
    f"{len(samples)} stack samples during the stalls; innermost frames:\n\n"
    "| innermost frame on the loop's thread | samples |\n| --- | --- |\n"
    + "\n".join(f"| `{frame}` | {n} |" for frame, n in Counter(s["innermost"] for s in samples).most_common(4))
))
assert diagnosis is not None and diagnosis.startswith("nb06_shop.py:"), diagnosis
assert "urlopen" in diagnosis, diagnosis

# %% [markdown]
# The innermost frames are in the standard library's socket code, waiting for the
# warehouse to answer; the diagnosis is the shop's own line on that stack. Now read
# the shop, starting from that line: who calls it?

# %%
source = Path(SHOP).read_text().splitlines()
blamed = int(diagnosis.split(":")[1].split()[0])
print(f"{blamed}: {source[blamed - 1].strip()}\n")
for number, text in enumerate(source, start=1):
    if "stock_of(" in text or "_get(" in text or re.match(r"\s*(async )?def (stock_of|stock_level|checkout)\b", text):
        print(f"{number:4}: {text}")

# %% [markdown]
# `InventoryClient.stock_of` is a plain synchronous method (urllib, a 0.3 s round
# trip). It is called twice:
#
# - from `checkout`, a `def` endpoint: FastAPI runs it in a worker thread, the loop
#   is untouched (a thread-pool token is the only cost);
# - from `stock_level`, an **`async def` dependency** of the product page: it runs on
#   the event loop, and the loop waits 0.3 s for every product page.
#
# Same method, two callers, one of them wrong. Nothing in `show_product` itself looks
# suspicious; the blocking call is two calls away, inside a dependency.
#
# ## 4. Fix, and verify with the same measurement
#
# Three fixes would do: make `stock_level` a plain `def` dependency (FastAPI runs it
# in the thread pool), call the client through `await asyncio.to_thread(...)`, or
# give the shop an async inventory client. `apps/nb06_shop_fixed.py` takes the second,
# through FastAPI's `dependency_overrides`, leaving the shop's file untouched:

# %%
print(Path("apps/nb06_shop_fixed.py").read_text())
with lab.serve("apps/nb06_shop_fixed.py") as fixed_shop:
    # keep probing for 1 s: enough probes for a 95th percentile, after the answers too
    fixed = fixed_shop.burst("GET", paths, probe="/health", probe_for=1.0)
    fixed_warnings = [r for r in fixed_shop.inside()
                      if r.get("kind") == "log" and r["logger"] == "looplag" and r["t"] >= fixed.started]
fixed_p95 = fixed.probe_p95() * 1000
print(f"fixed: {len(fixed.answered)}/{len(paths)} answered in {fixed.total:.2f} s; "
      f"/health p95 {fixed_p95:.0f} ms; lag warnings: {len(fixed_warnings)}")
display(burst_figure(fixed, "the same 12 requests, stock_level in a worker thread"))

# %%
assert len(fixed.answered) == len(paths)
assert fixed_p95 < LIMIT_MS, fixed_p95
assert fixed.slowest < 3 * UPSTREAM_WAIT, fixed.slowest  # the six waits overlapped


# %% [markdown]
# ## 5. Why the usual tools stayed quiet
#
# ### asyncio's debug mode (`PYTHONASYNCIODEBUG=1`)
#
# Debug mode (the environment variable, `python -X dev`, or `asyncio.run(debug=True)`)
# times every callback the loop runs and logs the ones slower than
# `loop.slow_callback_duration` (0.1 s by default). It applies to uvicorn's loop too.
# It sees one long callback; it does not see a stall made of many short callbacks run
# back to back in one iteration of the loop, which freezes everything just as well.
# `apps/nb06_debug_demo.py` blocks a loop both ways, under debug mode, with a lag
# sampler beside it:

# %%
def under_debug_mode(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "apps/nb06_debug_demo.py", mode],
        env={**os.environ, "PYTHONASYNCIODEBUG": "1"},
        capture_output=True, text=True, timeout=60,
    )


debug_runs = {mode: under_debug_mode(mode) for mode in ("one-long", "many-short")}
for mode, done in debug_runs.items():
    print(f"--- {mode}: stdout\n{done.stdout}--- {mode}: what asyncio logged (stderr)\n{done.stderr or '(nothing)'}\n")


# %%
def sampled_lag_ms(done: subprocess.CompletedProcess[str]) -> int:
    return int(re.search(r"sampler: (\d+) ms", done.stdout).group(1))


long_run, short_run = debug_runs["one-long"], debug_runs["many-short"]
assert long_run.returncode == short_run.returncode == 0
assert "debug mode: True" in long_run.stdout and "debug mode: True" in short_run.stdout
took = float(re.search(r"took (\d+\.\d+) seconds", long_run.stderr).group(1))
assert took >= 0.25, took  # the long callback was caught...
assert "Executing" not in short_run.stderr, short_run.stderr  # ...the many short ones were not
assert sampled_lag_ms(short_run) >= 200, short_run.stdout  # though the loop stalled as long

# %% [markdown]
# Debug mode also slows the loop down (it records where every task and callback was
# created), so it is a development tool. In production, measure lag from outside any
# single callback, as the middleware above does.
#
# ### ruff's `ASYNC` rules (flake8-async) in CI
#
# Many guides tell you to enable `ASYNC101` ("open/sleep/subprocess in async def") and
# say `ASYNC210` catches `smtplib`. Neither is true of current ruff: `ASYNC101` is not a
# rule (flake8-async split it into the 2xx rules long ago), and `ASYNC210` is about
# blocking **HTTP** calls. Asked directly, the ruff installed here:

# %%
RUFF = [sys.executable, "-m", "ruff"]
gone = subprocess.run([*RUFF, "rule", "ASYNC101"], capture_output=True, text=True, timeout=60,
                      env={**{k: v for k, v in os.environ.items() if "COLOR" not in k}, "NO_COLOR": "1"})
print(f"$ ruff rule ASYNC101  -> exit {gone.returncode}: {gone.stderr.strip().splitlines()[0]}")
every_rule = json.loads(subprocess.run([*RUFF, "rule", "--all", "--output-format", "json"],
                                       capture_output=True, text=True, timeout=60, check=True).stdout)
async_rules = {r["code"]: r for r in every_rule if (r.get("code") or "").startswith("ASYNC")}
display(Markdown("| code | name | what it flags |\n| --- | --- | --- |\n" + "\n".join(
    f"| {code} | `{r['name']}` | {r['summary'].replace('|', '/')} |" for code, r in sorted(async_rules.items())
)))
assert gone.returncode != 0 and "ASYNC101" not in async_rules
assert "HTTP" in async_rules["ASYNC210"]["summary"]  # HTTP calls, not SMTP
assert not any("smtp" in (r["summary"] + r["name"]).lower() for r in async_rules.values())

# %% [markdown]
# Of these, the ones about blocking the loop are the 2xx rules: blocking HTTP calls
# (`ASYNC210`, and `ASYNC212` for a sync `httpx` client), creating or waiting on
# processes (`ASYNC220`-`ASYNC222`), `open()` and blocking `pathlib`/`os.path` calls
# (`ASYNC230`, `ASYNC240`), `input()` (`ASYNC250`) and `time.sleep` (`ASYNC251`). The
# 1xx rules are about timeouts, busy waits and cancellation, mostly for trio and AnyIO.
# Nothing covers `smtplib`, database drivers or CPU work.
#
# They flag well-known blocking calls made directly inside `async def`. The course's six starters, each checked with the rules and nothing
# else (`--isolated` ignores `pyproject.toml`, where the starters carry a per-file
# ignore because their bug is the lesson):

# %%
starters = sorted(str(p.relative_to(REPO)) for p in REPO.glob("exercises/*/starter.py"))


PLAIN = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "CLICOLOR_FORCE"}}


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**PLAIN, "NO_COLOR": "1"})


print("$ ruff check --isolated --select ASYNC --no-cache exercises/*/starter.py")
print(ruff("--isolated", "--select", "ASYNC", "--output-format", "concise", *starters).stdout)
findings = json.loads(ruff("--isolated", "--select", "ASYNC", "--output-format", "json", *starters).stdout)
codes = {s.split("/")[1]: set() for s in starters}
for f in findings:
    codes[Path(f["filename"]).parent.name].add(f["code"])
display(Markdown("| starter | its bug | ruff ASYNC |\n| --- | --- | --- |\n" + "\n".join(
    f"| {name} | {bug} | {', '.join(sorted(codes[name])) or 'nothing'} |"
    for name, bug in {
        "blocking-sleep": "`time.sleep` in `async def`",
        "blocking-http": "sync `httpx.get` in `async def`",
        "blocking-smtp": "`smtplib` in `async def`",
        "cpu-bound": "pbkdf2 in `async def`",
        "background-tasks": "`open()` and `smtplib` in sync helpers, called from `async def`",
        "threadpool-exhaustion": "none a linter can see: 40 tokens",
    }.items()
)))

# %%
assert codes["blocking-sleep"] == {"ASYNC251"}, codes
assert codes["blocking-http"] == {"ASYNC210"}, codes
# What lint cannot see: calls it has no rule for, and blocking calls one function away.
assert not codes["blocking-smtp"] and not codes["cpu-bound"] and not codes["background-tasks"], codes

with_project_config = ruff("--select", "ASYNC", *starters)  # per-file ignore applies
shop_findings = json.loads(ruff("--isolated", "--select", "ASYNC", "--output-format", "json", f"course/{SHOP}").stdout)
print("with the project's pyproject.toml:", with_project_config.stdout.strip())
print("the shop:", shop_findings or "no finding")
assert with_project_config.returncode == 0
assert shop_findings == []  # the shop blocks its loop, and lint is silent


# %% [markdown]
# Run the `ASYNC` rules in CI anyway: they are free and catch the plain cases
# (`time.sleep`, sync HTTP clients, `open()`, `subprocess` directly in `async def`).
# But they see one function at a time: the shop's `urlopen` sits in a sync method,
# called from an `async def` dependency, and no rule follows that call. A passing lint
# is not evidence that the loop is free; a lag measurement is.
#
# ## 6. A lock that a thread walks through
#
# The shop had a second bug, with no symptom yet. Each basket used to carry an
# `asyncio.Lock`, taken by `add_to_basket` (`async def`, on the loop); but `checkout` is
# a `def` endpoint, so it changes the same baskets from a worker thread, and never
# touched that lock. An `asyncio.Lock` only orders coroutines **of its own loop**: its
# `acquire()` is a coroutine, so a thread cannot even take it, and it does not stop a
# thread from changing the state it guards. Here, while a coroutine holds an
# `asyncio.Lock` over a basket, a thread empties it:

# %%
basket: dict[int, int] = {7: 1}
lock = asyncio.Lock()


def checkout_from_a_thread(loop: asyncio.AbstractEventLoop, done: asyncio.Event) -> None:
    basket.clear()  # what the def endpoint did: it has no way to wait for `lock`
    loop.call_soon_threadsafe(done.set)


async def add_under_the_lock() -> tuple[dict[int, int], dict[int, int]]:
    async with lock:
        before = dict(basket)
        done = asyncio.Event()
        thread = threading.Thread(target=checkout_from_a_thread, args=(asyncio.get_running_loop(), done))
        thread.start()
        await done.wait()  # any await inside the critical section will do
        thread.join()
        return before, dict(basket)


before, after = await add_under_the_lock()
print(f"inside the asyncio.Lock: basket was {before}, then {after}: the thread did not wait")
assert before == {7: 1} and after == {}

# %% [markdown]
# The fix in `apps/nb06_shop.py` now: one `threading.Lock` over the baskets, taken by
# both endpoints, and held only for the dict updates (never across an `await` or a
# network call, so the loop waits microseconds at most). The other way is to keep every
# change on the loop: make `checkout` `async def`, run its stock checks with
# `await asyncio.to_thread(...)`, and then an `asyncio.Lock` (or no lock at all, when no
# `await` sits between the read and the write) is enough.

# %%
shop_source = Path(SHOP).read_text()
print("\n".join(line for line in shop_source.splitlines() if "LOCK" in line or "asyncio.Lock" in line))

# %% [markdown]
# ## 7. What `uvicorn --workers 4` hides, and what it does not
#
# More worker processes multiply capacity, so a blocked loop hurts less *on
# average*. Here is the model with two copies of the shop, each receiving half the
# product pages, as a load balancer would spread them:

# %%
def spread(copies: int, requests: int) -> list[lab.Burst]:
    """Serve `copies` shops and send each its share of `requests` product pages at once."""
    with ExitStack() as stack:
        shops = [stack.enter_context(lab.serve(SHOP)) for _ in range(copies)]
        shares = [[f"/products/{i}" for i in range(1, requests + 1)][k::copies] for k in range(copies)]
        with ThreadPoolExecutor(copies) as pool:
            return list(pool.map(lambda s, p: s.burst("GET", p, probe="/health"), shops, shares))


def picture(bursts: list[lab.Burst], title: str) -> Figure:
    fig = Figure(figsize=(4.5 * len(bursts), 5.5), layout="constrained")
    axes = fig.subplots(2, len(bursts), sharex=True, squeeze=False, height_ratios=[3, 2])
    t0 = min(b.started for b in bursts)
    for k, b in enumerate(bursts):
        plots.timeline(b.responses, ax=axes[0][k], title=f"worker {k + 1}: {len(b.responses)} product pages")
        plots.latency_trace(b.probes, ax=axes[1][k], since=t0, title=f"worker {k + 1}: /health", limit_ms=LIMIT_MS)
        axes[0][k].set_xlabel("")
    fig.suptitle(title)
    return fig


workers = spread(copies=2, requests=8)
for k, b in enumerate(workers, start=1):
    print(f"worker {k}: {len(b.answered)} pages in {b.total:.2f} s (slowest {b.slowest:.2f} s); "
          f"its /health p95 {b.probe_p95() * 1000:.0f} ms")
display(picture(workers, "8 blocking product pages over 2 workers"))

# %%
for b in workers:
    assert len(b.answered) == 4
    assert b.slowest >= 4 * UPSTREAM_WAIT * 0.9, b.slowest  # each worker still serialises its share
    assert b.probe_p95() * 1000 > LIMIT_MS, b.probe_p95()  # and its /health still freezes
assert max(b.total for b in workers) < 8 * UPSTREAM_WAIT * 0.85  # but 8 pages took half as long


# %% [markdown]
# What the extra workers **hide**: throughput. Eight blocking pages took about
# 4 × 0.3 s instead of the 8 × 0.3 s one worker needs (section 1: one upstream wait
# per page, one after another), and four workers would divide by four: dashboards of
# averages look better, and the bug survives longer.
#
# What they do **not** hide:
#
# - **Every request a blocked worker holds waits.** Each worker's timeline above is
#   still a staircase. With real `--workers`, all workers share one listening socket
#   and asyncio accepts every pending connection in one go (up to uvicorn's backlog,
#   2048), so the worker that is about to block may already hold several
#   connections; they queue behind the stall, and the others cannot take them over.
# - **Its health check fails.** A load balancer or Kubernetes probe that lands on the
#   frozen worker times out. Enough failures and the supervisor marks the instance
#   unhealthy or restarts it, dropping every request it held; under the same load the
#   new worker blocks the same way, and the restarts repeat.
# - **The cost.** N workers means N copies of the app in memory, N connection pools,
#   N caches. For CPU-bound work, processes are a fine way to use the cores (notebook
#   05); as a fix for a blocked loop, they only divide the damage.
#
# Turn the knobs: how many copies, how many product pages?

# %%
def try_it(copies: int, requests: int) -> None:
    bursts = spread(copies, requests)
    print(f"{requests} pages over {copies} worker(s): done in {max(b.total for b in bursts):.2f} s; "
          f"worst /health p95 {max(b.probe_p95() for b in bursts) * 1000:.0f} ms")
    display(picture(bursts, f"{requests} blocking product pages over {copies} worker(s)"))


display(run_button(
    try_it,
    description="Send the pages",
    copies=widgets.IntSlider(value=2, min=1, max=3, description="workers"),
    requests=widgets.IntSlider(value=8, min=2, max=16, step=2, description="pages"),
))

# %% [markdown]
# ## 8. Your turn: product pages with prices
#
# Another service, the same symptom: twenty product pages at once take six seconds,
# and the health check fails meanwhile. The cell below copies it to
# `mine/06-prices.py` (once: your edits are kept). Run the check first, untouched: the
# grader's diagnosis names the line that held the loop. Then fix it, and make twenty
# pages come back within a second with the loop free.

# %%
prices = TURNS["06-prices"]
display(Code(filename=prices.start(), language="python"))

# %%
verdict = prices.check()  # grades mine/06-prices.py; rerun after each edit

# %%
if REFERENCE:  # executed headless (CI): the reference answer must pass
    assert verdict.passed, verdict.render()

# %% [markdown]
# Stuck? One answer is in [`_answers/06-prices.py`](_answers/06-prices.py).
#
# ## 9. The checklist
#
# **Before it ships**
#
# - [ ] Every `async def` (endpoints, dependencies, middleware, background tasks,
#       lifespan) awaits its I/O: async clients (`httpx.AsyncClient`, `aiosmtplib`,
#       async DB drivers), `asyncio.sleep`; no sync client one call away.
# - [ ] Sync libraries run in `def` endpoints/dependencies or `await asyncio.to_thread(...)`.
# - [ ] State shared between `async def` code and `def` code (threads) is guarded by a
#       `threading.Lock`, or kept on the loop; an `asyncio.Lock` does not stop a thread.
# - [ ] CPU work: C code that releases the GIL (hashlib, zlib) in a thread; pure Python
#       in a process pool (`forkserver`/`spawn`), created in the lifespan.
# - [ ] The thread limiter (40 tokens) and the async clients' connection limits are set
#       on purpose, from what the upstreams can take.
# - [ ] `ruff check --select ASYNC` runs in CI (the real codes: `ruff rule --all`; and
#       you know what it cannot see).
# - [ ] A load test sends concurrent requests and probes `/health` open-loop, at the
#       95th percentile.
#
# **In production**
#
# - [ ] A loop-lag monitor (like `nb06_lagwatch.py`) logs stalls over ~100 ms, with the
#       routes that ran meanwhile; lag is a metric with an alert.
# - [ ] A way to sample the loop thread's stack during a stall (`py-spy dump --pid`, or
#       a watchdog thread like the grader's) to turn "it stalled" into `file:line`.
# - [ ] Health checks answered by the event loop itself (`async def`, no I/O), so they
#       measure the loop, with timeouts and failure thresholds that tolerate a
#       deploy but not a frozen worker.
# - [ ] More `--workers` only after the loop is free: they multiply capacity, they do not
#       unblock a worker.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Your turn**, if you skipped it: section 8, `mine/06-prices.py`.
# - **Drills:** `python -m autograder drill predict-lock`,
#   `python -m autograder drill predict-file-write`,
#   `python -m autograder drill fix-file-write`,
#   `python -m autograder drill fix-lock-serialises`,
#   `python -m autograder drill q-workers`
#   (or in [09 · drills](09_drills.ipynb)).
# - **Graded exercises:** every one, listed by `python -m autograder list`; for finding a
#   blocker one call away, `python -m autograder grade background-tasks my_fix.py`
#   ([README](../exercises/background-tasks/README.md), nbgrader notebook
#   [background-tasks.ipynb](../exercises/source/background-tasks/background-tasks.ipynb)).
# - **Next:** [08 · durable jobs](08_durable_jobs.ipynb).
