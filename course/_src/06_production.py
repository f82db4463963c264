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
# 7. `uvicorn --workers 2`, measured: what more processes change, and what they do not;
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
from pathlib import Path

import ipywidgets as widgets
from _lesson import LeakCheck, burst_figure
from _pictures import worker_figure
from _practice import REFERENCE, Tolerance, score
from _scenarios import per_worker, pid_of
from _turns import TURNS
from _widgets import run_button
from IPython.display import Code, Markdown, display

from autograder import lab

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
# seconds until the slowest of the twelve is answered? Replace `None` with your figure.

# %%
predicted_slowest = None  # your figure: seconds until the slowest of the 12 requests is answered

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
# ## 7. `uvicorn --workers 2`, measured: what more processes change, and what they do not
#
# "Just add workers" is the usual answer to a slow service. What the installed uvicorn
# does with `--workers 2` (`uvicorn/main.py`, `uvicorn/supervisors/multiprocess.py`):
#
# - The parent process binds **one** listening socket (`config.bind_socket()`) and starts
#   `Multiprocess`: two `spawn` children, each handed that socket (multiprocessing passes
#   a duplicate of the file descriptor: the same listening socket, not a copy). Each
#   child imports the app itself and runs its own `Server.run(sockets=[sock])`: its
#   own event loop calling `loop.create_server(sock=sock)`.
# - **Nobody hands connections out.** The parent never touches one. The kernel wakes the
#   workers waiting on the socket and whichever calls `accept()` first gets the
#   connection; asyncio's accept handler then keeps accepting (up to uvicorn's backlog,
#   2048) until nothing is pending. A worker whose loop is blocked calls nothing, so
#   new connections go to the other one; but what it accepted before it blocked stays
#   with it.
# - The parent pings each worker every 0.5 s over a pipe and restarts one that does not
#   answer within `timeout_worker_healthcheck` (5 s). The answer comes from a thread in
#   the worker (`always_pong`), not from its loop: a worker whose loop is blocked still
#   passes uvicorn's own health check.
#
# `lab.serve(..., workers=2)` serves with that supervisor (the engine hands uvicorn's
# `Multiprocess` the socket it bound). The app, `apps/nb06_workers.py`, answers every
# request with the pid of the worker that served it:

# %%
WORKERS_APP = "apps/nb06_workers.py"
BLOCK = 0.25  # /block holds its worker's loop this long (time.sleep in async def)
print(Path(WORKERS_APP).read_text())


with lab.serve(WORKERS_APP, workers=2) as two:
    worker_pids = two.workers()
    one_by_one = Counter(pid_of(two.request("GET", "/whoami")) for _ in range(100))
    all_at_once = Counter(pid_of(r) for r in two.burst("GET", "/whoami", n=40).answered)
    states = [two.request("GET", "/state").json() for _ in range(12)]

display(Markdown(
    "| worker pid | of 100 requests one after another | of 40 sent at once | its `served` counter | its thread tokens |\n"
    "| --- | --- | --- | --- | --- |\n" + "\n".join(
        f"| {pid} | {one_by_one[pid]} | {all_at_once[pid]} | "
        f"{max(s['served'] for s in states if s['pid'] == pid) if any(s['pid'] == pid for s in states) else 0} | "
        f"{', '.join(sorted({str(s['tokens']) for s in states if s['pid'] == pid})) or '-'} |"
        for pid in worker_pids)))

# %%
assert len(worker_pids) == 2
assert set(one_by_one) == set(worker_pids), one_by_one  # both workers answer
assert sum(all_at_once.values()) == 40 and set(all_at_once) <= set(worker_pids)
for pid in {s["pid"] for s in states}:  # each counts only the requests it served itself
    mine = [s["served"] for s in states if s["pid"] == pid]
    assert mine == list(range(1, len(mine) + 1)), (pid, mine)
assert {s["tokens"] for s in states} == {40}  # and has a thread limiter of its own

# %% [markdown]
# One after another, each request on a connection of its own, both workers answer,
# in no fixed turn. Sent at once, the split is whatever the race gave: the worker that
# woke first accepted every connection pending, often all of them. And each worker is a
# process of its own: its own event loop, its own 40-token thread limiter (two workers
# have 80 tokens between them, but a request only ever uses its own worker's 40), its
# own memory. The `served`
# counter above counts only what its worker served; so does every in-process cache,
# rate limiter or `BackgroundTasks` queue (a response's background tasks run in the
# worker that sent it, and die with it).
#
# **Predict.** One worker serves eight `/block` requests sent at once in 8 × 0.25 =
# 2 s: each holds the loop. How many seconds do *two* workers take for the same eight?

# %%
predicted_two_workers = None  # your figure: seconds for 8 x /block sent at once to 2 workers

# %%
with lab.serve(WORKERS_APP, workers=2) as two:
    at_once_pids = two.workers()
    at_once = two.burst("GET", "/block", n=8, probe="/health")
    stream = two.burst("GET", "/block", n=8, every=0.05, probe="/health")
    # what each worker's own lag monitor saw (read after the stream: a worker notes a stall
    # once it is over, just after sending the answers the stall held)
    inside_two = two.inside()
with lab.serve(WORKERS_APP) as one:
    one_at_once = one.burst("GET", "/block", n=8, probe="/health")
    one_stream = one.burst("GET", "/block", n=8, every=0.05, probe="/health")

runs = {"1 worker, at once": one_at_once, "2 workers, at once": at_once,
        "1 worker, one every 50 ms": one_stream, "2 workers, one every 50 ms": stream}
for name, b in runs.items():
    print(f"{name:>27}: 8 answered in {b.total:.2f} s; served per worker "
          f"{sorted(Counter(map(pid_of, b.answered)).values(), reverse=True)}; /health p95 {b.probe_p95() * 1000:.0f} ms")
score("8 blocking requests, 2 workers", predicted_two_workers, at_once.total,
      tolerance=Tolerance(absolute=0.2, relative=0.2), unit="s")


# %%
display(worker_figure(runs, limit_ms=LIMIT_MS))

# %%
for b in runs.values():
    assert len(b.answered) == 8
    for pid, answers in per_worker(b).items():  # each worker serves its share one after another
        for k, r in enumerate(answers, start=1):
            assert r.end - b.started >= k * BLOCK * 0.9, (pid, k, r.end - b.started)
# One worker: 8 x 0.25 s, however the requests arrive.
assert one_at_once.total >= 8 * BLOCK * 0.9 and one_stream.total >= 8 * BLOCK * 0.9
# Two workers, at once: as long as the bigger share, one step per request it accepted.
biggest = max(Counter(map(pid_of, at_once.answered)).values())
assert biggest * BLOCK * 0.9 <= at_once.total <= biggest * BLOCK + 0.3, (biggest, at_once.total)
# Two workers, a steady stream: the second request finds the first worker blocked, so
# both serve and the eight take markedly less than one worker's 2 s.
assert len(per_worker(stream)) == 2 and stream.total < 0.8 * one_stream.total, stream.total
# /health waits when every worker is blocked: one worker's stall, both in the stream.
assert one_at_once.probe_p95() * 1000 > LIMIT_MS and one_stream.probe_p95() * 1000 > LIMIT_MS
assert stream.probe_p95() * 1000 > LIMIT_MS, stream.probe_p95()
# At once, the worker that accepted more keeps it: its requests wait for its loop while
# the other worker is already free, and the probes sent meanwhile land on the free one.
shares = per_worker(at_once)
busy = max(at_once_pids, key=lambda pid: len(shares.get(pid, [])))
idle = next(pid for pid in at_once_pids if pid != busy)
idle_since = shares[idle][-1].end if idle in shares else at_once.started
busy_until = shares[busy][-1].end
if len(shares.get(idle, [])) < len(shares[busy]):  # an uneven split (the usual race)
    assert busy_until - idle_since >= BLOCK * 0.9
    meanwhile = sorted(p.latency for p in at_once.probes
                       if p.done and idle_since + 0.02 < p.start < busy_until - 0.02)
    assert meanwhile and meanwhile[int(0.95 * (len(meanwhile) - 1))] * 1000 < LIMIT_MS, meanwhile
    print(f"worker {busy} served until {busy_until - at_once.started:.2f} s, worker {idle} was free from "
          f"{idle_since - at_once.started:.2f} s: {len(meanwhile)} /health probes sent meanwhile, "
          f"p95 {meanwhile[int(0.95 * (len(meanwhile) - 1))] * 1000:.0f} ms")
else:
    print("this time the race split the eight evenly: both workers were blocked to the end")
# Inside, each worker's own lag monitor saw its own loop: stalled if it served /block, free if not.
for pid in at_once_pids:
    stalls = [r["lag"] for r in inside_two if r.get("kind") == "lag" and r.get("pid") == pid
              and at_once.started <= r["t"] - r["lag"] <= at_once.finished]  # stalls begun in the burst
    print(f"worker {pid}: served {len(shares.get(pid, []))} x /block; its loop's worst lag "
          f"{max(stalls, default=0.0) * 1000:.0f} ms")
    if pid in shares:
        assert max(stalls) >= BLOCK * 0.9, stalls
    else:
        assert max(stalls, default=0.0) * 1000 < LIMIT_MS, stalls

# %% [markdown]
# Read the three measurements together:
#
# - **At once, two workers take the bigger share × 0.25 s.** Eight connections
#   arrived together, and the first worker to wake accepted every one still pending:
#   usually most or all of them (the split is printed above). It serves them one after
#   another (its staircase) while the other worker idles. An even 4:4 split would halve
#   the time, 8:0 equals one worker; the race decides, not a balancer.
# - **Spread over time, two workers are faster.** When the requests arrive one every 50 ms, the second
#   finds the first worker blocked, so the free one takes it: both staircases run side by
#   side and the eight finish well before one worker's 2 s. Capacity multiplied: about
#   by two, at best, with two workers.
# - **Neither run unblocked a worker.** Every request a worker accepted waits for that
#   worker's stall, each staircase step is one blocking call, and the connections
#   it accepted before blocking cannot move to the free worker.
# - **Each worker has its own loop.** The harness runs a lag monitor in every worker
#   (its records carry the worker's pid): a worker that served `/block` saw its loop
#   stall, one that served none saw no stall at all, in the same second.
# - **`/health` through the port measures the freest worker.** A probe is accepted by
#   whichever worker is free, so with one worker free it comes back at once while the
#   other holds requests for a second or more (a load balancer sees a healthy
#   instance). It fails only when every worker is blocked, as in the steady stream.
#   uvicorn's own supervisor does not notice either: its ping is answered by a thread.
#   The grader's loop probe (`probe="loop"`) lands the same way, on whichever worker
#   accepts it; that is why this app's `/health` returns its pid: to tell them apart.
# - **The cost:** N workers are N copies of the app in memory, N connection pools, N
#   caches that disagree. For CPU-bound work, processes are a fine way to use the cores
#   (notebook 05); as a fix for a blocked loop, they only divide the damage.
#
# Turn the knobs: how many workers, how many requests, at once or spread out?

# %%
def try_it(workers: int, requests: int, spread_ms: int) -> None:
    with lab.serve(WORKERS_APP, workers=workers) as served:
        b = served.burst("GET", "/block", n=requests, every=spread_ms / 1000, probe="/health")
    shares = sorted(Counter(map(pid_of, b.answered)).values(), reverse=True)
    print(f"{requests} x /block over {workers} worker(s), one every {spread_ms} ms: done in {b.total:.2f} s; "
          f"served per worker {shares}; /health p95 {b.probe_p95() * 1000:.0f} ms")
    display(worker_figure({f"{workers} worker(s)": b}, limit_ms=LIMIT_MS))


display(run_button(
    try_it,
    description="Send the requests",
    workers=widgets.IntSlider(value=2, min=1, max=3, description="workers"),
    requests=widgets.IntSlider(value=8, min=2, max=16, step=2, description="requests"),
    spread_ms=widgets.IntSlider(value=0, min=0, max=200, step=25, description="every (ms)"),
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
# Stuck? Run `prices.show_answer()` in a new cell to see one answer.
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
# - [ ] More `--workers` only after the loop is free: they multiply capacity for requests
#       that find a worker free, they do not unblock a worker, and a health check through
#       the shared port is answered by the freest worker (probe each worker, or watch lag).

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
#   (or in [10 · drills](10_drills.ipynb)).
# - **Graded exercises:** every one, listed by `python -m autograder list`; for finding a
#   blocker one call away, `python -m autograder grade background-tasks my_fix.py`
#   ([README](../exercises/background-tasks/README.md), nbgrader notebook
#   [background-tasks.ipynb](../exercises/source/background-tasks/background-tasks.ipynb)).
# - **Next:** [07 · four more stalls, and databases](07_more_stalls.ipynb).
