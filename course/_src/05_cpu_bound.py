# %% [markdown]
# # 05 · CPU-bound work: the GIL decides what a thread can fix
#
# Waiting (for an upstream, a mail server, a timer) is easy to take off the event
# loop. Computing is different: the work has to run *somewhere*, and in CPython a
# thread only runs Python code while it holds the GIL. This notebook runs the same
# kind of job five ways beside a `/health` endpoint and measures, from outside, how
# long `/health` takes to answer while four jobs are in flight:
#
# | way | the work | where it runs |
# | --- | --- | --- |
# | 1 | `hashlib.pbkdf2_hmac` (sha256, 1,000,000 rounds) | inline in `async def`: on the loop's thread |
# | 2 | the same pbkdf2 | `await asyncio.to_thread(...)`: a worker thread |
# | 3 | a pure-Python loop of about the same length | `await asyncio.to_thread(...)`: a worker thread |
# | 4 | the same pure-Python loop | a plain `def` endpoint: FastAPI's worker thread |
# | 5 | the same pure-Python loop | a `ProcessPoolExecutor` (forkserver): other processes |
#
# `/health` is probed **open-loop**: one request every 20 ms whatever happened to the
# previous one, so a frozen loop makes every probe sent during the freeze wait (a
# sequential prober would send one probe per freeze and see one slow answer). The
# course's production threshold is 100 ms at the 95th percentile.

# %%
import hashlib
import sys
from pathlib import Path

import ipywidgets as widgets
from _lesson import LeakCheck, burst_figure
from _pictures import health_p95_figure, probe_traces_figure
from _practice import REFERENCE, Tolerance, score
from _turns import TURNS
from _widgets import run_button
from IPython.display import Code, Markdown, display

from autograder import lab

leaks = LeakCheck()  # the last cell checks that nothing started here is left running
JOBS = 4  # jobs in flight at once, as in the cpu-bound exercise
LIMIT_MS = 100

# %% [markdown]
# ## The app
#
# One process, five `POST` endpoints, one `/health`. Each job reports the CPU time
# it used (`time.thread_time()`, counted in whichever thread or process ran it) and
# the process id that ran it.

# %%
print(Path("apps/nb05_cpu.py").read_text())

# %% [markdown]
# ## Four jobs at once, five ways
#
# **Predict first.** Of the five ways, how many keep `/health` under 100 ms at the
# 95th percentile while four jobs run? Replace `None` with your figure.

# %%
predicted_ways_under_limit = None  # your figure: of the 5 ways, how many keep /health's p95 under 100 ms

# %% [markdown]
# One server for the five runs, one after the other (about 8 s in all). "Cores used"
# is the jobs' CPU time added up, divided by the burst's wall time: 1.0 means one
# core did all the work, 2.0 means both cores of this machine were busy. (That needs
# both cores idle to begin with: if another program is busy on the machine, the
# notebook says so and skips the two claims about cores.)

# %%
STRATEGIES = {
    "pbkdf2 in async def": "/hash/on-loop",
    "pbkdf2 in asyncio.to_thread": "/hash/to-thread",
    "Python loop in asyncio.to_thread": "/loop/to-thread",
    "Python loop in a def endpoint": "/loop/def",
    "Python loop in a process pool": "/loop/process-pool",
}


def measure(app: lab.LabApp, path: str, jobs: int = JOBS) -> dict:
    burst = app.burst("POST", path, n=jobs, probe="/health")
    answers = [r.json() for r in burst.answered]
    return {
        "burst": burst,
        "answers": answers,
        "p95_ms": burst.probe_p95() * 1000,
        "max_ms": burst.max_probe_latency * 1000,
        "probes": len(burst.probe_latencies),
        "cores": sum(a["cpu_s"] for a in answers) / burst.total,
        "pids": {a["pid"] for a in answers},
    }


with lab.serve("apps/nb05_cpu.py") as app:
    app_pid = app.request("GET", "/threads").json()["pid"]
    results = {name: measure(app, path) for name, path in STRATEGIES.items()}

# The pool's two workers run pure CPU work: the cores they got is what the machine
# had free. Another program busy on this shared machine leaves less than two, and
# then no run can show two cores at work: the cores claims below are skipped.
two_cores_free = results["Python loop in a process pool"]["cores"] > 1.5
print("both cores were free for this run" if two_cores_free else
      "another program was busy on this machine: the 'cores used' claims are not checked this run")

rows = "\n".join(
    f"| {name} | {r['burst'].total:.2f} s | **{r['p95_ms']:.0f} ms** | {r['max_ms']:.0f} ms "
    f"| {r['probes']} | {r['cores']:.2f} | "
    f"{'the app (pid ' + str(app_pid) + ')' if r['pids'] == {app_pid} else str(len(r['pids'] - {app_pid})) + ' worker processes'} |"
    for name, r in results.items()
)
ways_under_limit = sum(r["p95_ms"] < LIMIT_MS for r in results.values())
score("ways that keep /health under 100 ms", predicted_ways_under_limit, ways_under_limit,
      tolerance=Tolerance(absolute=0), unit="ways")
display(Markdown(
    f"| {JOBS} jobs | burst | /health p95 | /health worst | probes | cores used | ran in |\n"
    "| --- | --- | --- | --- | --- | --- | --- |\n" + rows
))

# %%
display(health_p95_figure(results, limit_ms=LIMIT_MS, title=f"/health while {JOBS} CPU-heavy jobs are in flight"))
display(probe_traces_figure(results, limit_ms=LIMIT_MS))

# %% [markdown]
# ## 1. On the loop: everything waits
#
# Inline in `async def`, pbkdf2 runs on the event loop's own thread. For its whole
# duration the loop cannot accept a connection, parse a request or answer `/health`.
# The four hashes run one after another (about 1.0 core used), and every probe sent
# meanwhile waits for the loop to come back. Read the first trace as a line falling
# at 45°: a probe sent 200 ms later waited 200 ms less, because they were all
# answered together, once the last hash had finished (the hash requests were ready to
# run before any new probe connection was, so the loop never got to the probes in
# between).
#
# Every hash is still correct (checked here against `hashlib` in this kernel):

# %%
expected_hash = hashlib.pbkdf2_hmac("sha256", b"secret", b"course-salt", 1_000_000).hex()
steps = 4_000_000
expected_sum = (steps - 1) * steps * (2 * steps - 1) // 6  # sum of i*i for i < steps
for name, r in results.items():
    assert len(r["answers"]) == JOBS, (name, len(r["answers"]))
    want = expected_hash if "pbkdf2" in name else expected_sum
    assert all(a["result"] == want for a in r["answers"]), name

on_loop = results["pbkdf2 in async def"]
assert on_loop["p95_ms"] > 3 * LIMIT_MS, on_loop["p95_ms"]  # frozen, far past the limit
assert on_loop["cores"] < 1.3, on_loop["cores"]  # one hash at a time, on one thread
assert on_loop["probes"] >= 20, on_loop["probes"]

# %% [markdown]
# ## 2. pbkdf2 in a thread: the loop stays free, both cores work
#
# CPython's `hashlib` drops the GIL while OpenSSL computes the hash, so a worker thread
# doing pbkdf2 holds no lock the loop needs: `/health` keeps answering in a few ms, and
# the four hashes share both cores (cores used near 2). Hashes, compression (`zlib`),
# many NumPy operations and blocking I/O behave this way: C code that releases the GIL.
# A plain `def` endpoint gets the same result through FastAPI's thread pool.

# %%
hash_thread = results["pbkdf2 in asyncio.to_thread"]
assert hash_thread["p95_ms"] < LIMIT_MS, hash_thread["p95_ms"]
if two_cores_free:
    assert hash_thread["cores"] > 1.2, hash_thread["cores"]  # more than one core busy

# %% [markdown]
# ## 3. Pure Python in a thread: the GIL is held, the loop starves
#
# A loop of Python bytecode never releases the GIL on its own. CPython makes the
# running thread hand it over when another thread has waited for the *switch
# interval* (`sys.getswitchinterval()`, 5 ms), and then the loop's thread competes
# with four busy workers for it. Answering one `/health` takes the GIL many times
# (wake up from `select`, accept, read, parse, route, write), each time after such
# a wait, while a new probe arrives every 20 ms. The third trace shows the outcome:
# after the first few probes, the same falling line as on the loop, i.e. most probes
# were answered only once the jobs were done. `to_thread` moved the work off the
# loop's thread but not off the GIL the loop needs. Only one thread runs Python at a
# time, so the four jobs also share a single core.

# %%
print(f"switch interval: {sys.getswitchinterval() * 1000:.0f} ms")
loop_thread = results["Python loop in asyncio.to_thread"]
assert loop_thread["p95_ms"] > LIMIT_MS, loop_thread["p95_ms"]  # to_thread did not save /health
assert loop_thread["p95_ms"] > 5 * hash_thread["p95_ms"], (loop_thread["p95_ms"], hash_thread["p95_ms"])
assert loop_thread["cores"] < 1.3, loop_thread["cores"]  # one core: the GIL

# %% [markdown]
# A plain `def` endpoint is no different: FastAPI runs it in an AnyIO worker thread, and
# the thread holds the GIL the same way. "`def` never blocks the event loop" holds for
# work that *waits* (sockets, files, `time.sleep`), not for work that computes in Python:

# %%
def_thread = results["Python loop in a def endpoint"]
assert def_thread["p95_ms"] > LIMIT_MS, def_thread["p95_ms"]  # a def endpoint starves /health too
assert def_thread["cores"] < 1.3, def_thread["cores"]
assert ways_under_limit == 2, ways_under_limit  # pbkdf2 in a thread, and the process pool

# %% [markdown]
# ## 4. A process pool: the loop is free *and* both cores work
#
# Each worker process has its own interpreter and its own GIL; the app's loop only
# sends the arguments and awaits the result. `/health` stays fast and the work
# spreads over both cores.
#
# What it costs, and what bites:
#
# - **Start method.** The pool uses `forkserver` (or `spawn`), not `fork`: a uvicorn
#   process already runs threads, and `fork` copies every lock in whatever state some
#   other thread left it, so a child can hang forever on a lock nobody will release.
#   (Python 3.12 warns about forking a threaded process; 3.14 made `forkserver` the
#   default on Linux.)
# - **Importable work.** Arguments, results and the function itself are pickled: the
#   function must live at the top level of an importable module (no lambdas, no
#   closures), and each worker imports that module (here, the whole app) once.
# - **Start-up and memory.** A worker is a whole interpreter: create the pool once, in
#   the lifespan, warm it there, size it to the cores you can spare.
# - **Per-call overhead.** Pickling and a pipe round trip per call: worth it for jobs
#   of milliseconds or more, not for microseconds.

# %%
pool = results["Python loop in a process pool"]
assert pool["p95_ms"] < LIMIT_MS, pool["p95_ms"]
assert app_pid not in pool["pids"] and len(pool["pids"]) >= 2, (app_pid, pool["pids"])
if two_cores_free:
    assert pool["cores"] > loop_thread["cores"] + 0.3, (pool["cores"], loop_thread["cores"])


# %% [markdown]
# ## Try it
#
# Pick a way and a number of jobs in flight, and see the request timeline above the
# `/health` latency. Predict first: which ways keep `/health` under 100 ms with one
# job? With eight?

# %%
def try_it(way: str, jobs: int) -> None:
    with lab.serve("apps/nb05_cpu.py") as app:
        r = measure(app, STRATEGIES[way], jobs)
    print(f"{jobs} x {way}: {r['burst'].total:.2f} s, /health p95 {r['p95_ms']:.0f} ms, "
          f"cores used {r['cores']:.2f}")
    display(burst_figure(r["burst"], f"{jobs} x {way}"))


display(run_button(
    try_it,
    description="Run",
    way=widgets.Dropdown(options=list(STRATEGIES), value="Python loop in asyncio.to_thread",
                         description="way"),
    jobs=widgets.IntSlider(value=JOBS, min=1, max=8, description="jobs"),
))

# %% [markdown]
# ## 5. Your turn: a scorer that was "already fixed"
#
# `POST /score/{seed}` computes a score in pure Python, about 0.1 s of CPU each.
# Someone moved it to `asyncio.to_thread` and closed the ticket; with four scores in
# flight, `/health` still takes hundreds of milliseconds. The cell below copies it to
# `mine/scores05.py` (once: your edits are kept; keep that file name: a process pool's
# workers import your module by it). Keep `/health` under 100 ms at the 95th percentile
# while four scores are computed, each still correct.

# %%
scores = TURNS["05-scores"]
display(Code(filename=scores.start(), language="python"))

# %%
verdict = scores.check()  # grades mine/scores05.py with the grader's checks; rerun after each edit

# %%
if REFERENCE:  # executed headless (CI): the reference answer must pass
    assert verdict.passed, verdict.render()

# %% [markdown]
# Stuck? Run `scores.show_answer()` in a new cell to see one answer.
#
# ## What to remember
#
# - CPU work inline in `async def` freezes the loop for its whole duration: nothing
#   else is accepted, parsed or answered, health checks included.
# - `asyncio.to_thread` (or a plain `def` endpoint) frees the loop only when the work
#   releases the GIL, as `hashlib`, `zlib` and blocking I/O do. Pure-Python work in a
#   thread still starves the loop and uses one core.
# - A process pool (`forkserver` or `spawn`, created in the lifespan) frees the loop
#   for any work and uses every core, at the price of pickling and whole interpreters.
# - Measure `/health` open-loop at the 95th percentile: that is what a load balancer
#   sees. The `cpu-bound` exercise grades exactly this.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Graded exercise: `cpu-bound`.** The symptom is in
#   [exercises/cpu-bound/README.md](../exercises/cpu-bound/README.md); fix a copy of
#   [starter.py](../exercises/cpu-bound/starter.py), then, from the repository's folder,
#   `python -m autograder grade cpu-bound my_fix.py`. In a class it is the nbgrader notebook
#   [cpu-bound.ipynb](../exercises/source/cpu-bound/cpu-bound.ipynb).
# - **Your turn**, if you skipped it: section 5, `mine/scores05.py`.
# - **Drills:** `python -m autograder drill predict-cpu-in-async`,
#   `python -m autograder drill predict-cpu-to-thread-health`,
#   `python -m autograder drill predict-cpu-python-thread`,
#   `python -m autograder drill q-cpu-bound`
#   (or in [10 · drills](10_drills.ipynb)).
# - **Next:** [06 · production](06_production.ipynb): finding the line that blocks a running service.
