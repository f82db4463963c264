# %% [markdown]
# # 11 · Capstone: scan a service you did not write
#
# Every notebook so far knew which endpoint to look at. Your own service will not tell
# you. This notebook ends where that job begins:
#
# > You have inherited **Chapter & Verse**, a small bookshop's API: a catalogue in
# > SQLite, stock from the warehouse's system, delivery quotes from the courier's feed,
# > a back office whose every request is mailed to the auditors. Ten routes, routers,
# > dependencies, a middleware, a lifespan. Before the autumn sale you are asked:
# > *which requests will stall when twenty customers arrive at once, and why?*
#
# 1. read the service and **predict** which routes stall;
# 2. **scan** it with the course's measuring engine, the same code path as
#    `python -m autograder scan`: it serves the app as the grader does, reads its OpenAPI
#    schema, and measures every route it can call, alone and twenty at once, with the
#    event loop probed from outside;
# 3. **read the report**: the table, the verdicts, a timeline per route, the line that
#    held the loop;
# 4. **fix** a copy and scan again;
# 5. the command line, and what to do with your own service.

# %%
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import ipywidgets as widgets
from _lesson import LeakCheck
from _practice import MINE, REFERENCE, show_answer  # noqa: F401  (for "Stuck?", in 4.)
from IPython.display import Code, Markdown, display

from autograder import lab
from autograder.scan import report
from autograder.scan.classify import LAG_LIMIT, QUEUE_MIN
from autograder.scan.run import Options, ScanResult, scan
from autograder.scan.target import parse_target

leaks = LeakCheck()  # the last cell checks that nothing started here is left running
SHOP = Path("apps/nb11_bookshop.py")
ANSWER = Path("_answers/11-bookshop.py")
CONCURRENCY = 20  # requests at once per route: the autumn sale's twenty customers

# %% [markdown]
# ## 1. Read the service, then predict
#
# Take five minutes with the code below, as you would with a service handed to you.
# Everything it needs is real: the scan starts the course's dependency servers beside
# it (the warehouse's and the courier's HTTP services answer in 0.3 s; the mail relay
# takes 0.3 s to accept a message), and the catalogue is an SQLite database the
# lifespan loads.

# %%
display(Code(filename=SHOP, language="python"))

# %% [markdown]
# **Predict first.** Under twenty requests at once, which routes will stall: keep the
# whole app waiting, or keep their own callers queueing well beyond their time alone?
# Select them (Ctrl- or Cmd-click for several), or "none of them", then run on. Left
# empty, the prediction is not made: the scan's findings are shown, not scored.

# %%
ROUTES = [
    "GET /health", "GET /books", "GET /books/{book_id}", "GET /books/{book_id}/stock",
    "GET /authors/{author_id}", "GET /search", "GET /bestsellers", "GET /delivery/{city}",
    "GET /admin/sales",
]
NONE = "none of them"
prediction = widgets.SelectMultiple(options=[NONE, *ROUTES], value=(), rows=len(ROUTES) + 1,
                                    description="stall", layout=widgets.Layout(width="32em"))
display(prediction)

# %% [markdown]
# ## 2. Scan it
#
# `scan(target, options)` is what `python -m autograder scan` runs (the command line
# parses its arguments into these two, runs it, and prints the result). `parse_target`
# takes the command line's TARGET (a file, `file.py:attribute`, or uvicorn's
# `module:attribute`); `Options` holds `-n`, `--env`, `--unsafe`, `--requests` and the
# rest. The
# scan runs on the lab's own event loop (this kernel's loop is busy running the
# notebook), which is all `lab.run` does. About ten seconds:

# %%
def scan_file(path: Path) -> ScanResult:
    """Scan one app file as `python -m autograder scan PATH -n 20` would."""
    return lab.run(scan(parse_target(str(path)), Options(concurrency=CONCURRENCY)), 300)


before = scan_file(SHOP)
print(report.table(before))

# %%
def flagged(result: ScanResult) -> dict[str, str]:
    """The routes that are not fine: "METHOD /path" -> verdict."""
    return {f"{r.method} {r.path}": r.verdict for r in result.routes if r.verdict not in ("fine", "skipped")}


found = flagged(before)
predicted = set(prediction.value) - {NONE}
right, missed, false_alarms = predicted & found.keys(), found.keys() - predicted, predicted - found.keys()
named = ", ".join(f"`{r}`" for r in sorted(right)) or "none"
display(Markdown(
    f"**Your prediction:** not made yet (the scan flagged {len(found)} routes). Select the "
    "routes you expect to stall in the list above, then run this cell again."
    if not prediction.value else
    f"**Your prediction:** {'✓ exactly right' if predicted == found.keys() else '✗ not quite'}. "
    f"Named: {named} ({len(right)} of {len(found)}); "
    f"missed: {', '.join(f'`{r}`' for r in sorted(missed)) or 'none'}; "
    f"false alarms: {', '.join(f'`{r}`' for r in sorted(false_alarms)) or 'none'}."
))

# %% [markdown]
# ## 3. Read the report
#
# ### The table
#
# One line per route. **ALONE** is the faster of two requests sent one after the other:
# the route's own latency. **SLOWEST** is the slowest of twenty sent at once, and
# **SLOWDOWN** the one over the other. **LOOP LAG** is the worst latency of a probe
# that asks the app's event loop for an answer every 20 ms all along: a free loop
# answers in a few ms. **THREADS** are the thread-pool tokens in use at the peak, of 40.
#
# Look at the clean routes first: `GET /books` is about ten times slower under the burst, and
# `fine`. Twenty requests of 1 ms each, answered within 12 ms or so, is nothing a
# customer notices; the scan calls a burst queued only when the slowest waited at least
# 100 ms more than alone *and* 1.5 times as long. The verdicts, first match wins:
#
# | verdict | the scan saw | look for |
# | --- | --- | --- |
# | `fine` | none of the below | |
# | `blocks-loop` (**BLOCKS THE EVENT LOOP**) | the loop probe waited 100 ms or more, twice or more; or the burst queued while the app computed most of a core | the line the stack samples agree on: a sync call in `async def` code, one or more calls away (a dependency, a middleware), or CPU work |
# | `serialised` | the burst queued, about one request at a time | a lock held across an `await`, one shared connection |
# | `pool-queued` (**QUEUED (pool ceiling)**) | the burst queued, several at a time but fewer than sent | a ceiling: the thread pool's 40 tokens (THREADS says whether all were in use), a connection pool, a semaphore |
# | `errors` | 5xx answers, dropped connections, a hang, the app died | what failed, how many |
# | `skipped` | not called | the reason: here, a `POST` is never sent without `--unsafe` |
#
# Three routes are not fine, of two kinds:

# %%
EXPECTED = {  # what the untouched service gets, and no other route
    "GET /delivery/{city}": "blocks-loop",
    "GET /admin/sales": "blocks-loop",
    "GET /books/{book_id}/stock": "pool-queued",
}
routes = {f"{r.method} {r.path}": r for r in before.routes}
assert sorted(routes) == sorted([*ROUTES, "POST /orders"]), sorted(routes)
assert found == EXPECTED, found  # exactly these three, with these kinds: no clean route flagged
assert routes["POST /orders"].verdict == "skipped" and "--unsafe" in routes["POST /orders"].reason
for name in ROUTES:
    if name not in EXPECTED:
        assert routes[name].verdict == "fine" and routes[name].diagnosis is None, routes[name]
print(f"scan: {before.seconds:.1f} s; flagged: {found}")

# %% [markdown]
# ### A stalled loop: `GET /delivery/{city}`
#
# The timeline: one bar per request, from when it was sent to when it was answered
# (sorted by finish), and below it the loop probe's latency on the same time axis.

# %%
delivery = routes["GET /delivery/{city}"]
display(report.figure(delivery))
print(f"where: {delivery.diagnosis}\nwhy:   {delivery.reason}")
m = delivery.measured
sent_meanwhile = [p for p in m.probes if p.start >= m.burst_started]
print(f"{len(sent_meanwhile)} probes sent during the burst, "
      f"{sum(p.done for p in sent_meanwhile)} answered; requests answered: {delivery.figures['answered']} of 20")

# %% [markdown]
# Twenty requests that take 0.3 s each alone, and few or none answered within the 1.9 s
# the scan waits (a grey bar: never answered; the scan stops waiting once the verdict is
# settled, and starts the app afresh for the next route). Below, the probe: not one
# answer during the whole burst, or hardly any. A probe never answered is drawn at the
# time it had waited when probing stopped, so the line falls only because later probes
# had waited less; the first waited longest (the LOOP LAG column). For as long as the burst lasted, **no request
# of the whole shop was served**, `/health` included.
#
# Why not a staircase, one answer every 0.3 s? Each request's task, when its turn on the
# loop comes, holds the loop for one courier call; the first request's answer is ready
# after its call, but sending it takes more turns, each queued behind the other requests'
# tasks, which each hold the loop 0.3 s first. A blocked loop makes every request wait for
# every other.
#
# `where` is the line the stack samples agreed on during the stalls (the grader's
# diagnosis: a watchdog thread in the app's process reads the loop thread's stack while
# the loop is stalled). It names `Courier.conditions`, a plain `def` method with a
# sync `urlopen`. That is not a bug by itself. Who calls it?

# %%
SOURCE = SHOP.read_text().splitlines()


def show_lines(*needles: str) -> None:
    """Print every line of the shop that contains one of `needles`."""
    for number, text in enumerate(SOURCE, start=1):
        if any(needle in text for needle in needles):
            print(f"{number:4}: {text}")


def line_of(text: str) -> tuple[int, str]:
    """The shop's only line containing `text`: (number, the line stripped)."""
    [(number, line)] = [(n, t.strip()) for n, t in enumerate(SOURCE, start=1) if text in t]
    return number, line


show_lines("conditions(", "delivery_conditions)")

# %% [markdown]
# `delivery_conditions` is an **`async def` dependency**: FastAPI awaits it on the event
# loop, so the sync call inside waits there, 0.3 s a request, and the route
# `delivery_quote` looks innocent. The same mistake as notebook 06's product pages, one
# call further away.
#
# ### The same kind, another place: `GET /admin/sales`

# %%
admin = routes["GET /admin/sales"]
display(report.figure(admin))
print(f"where: {admin.diagnosis}")
show_lines("record(", "async def audit_back_office", 'startswith("/admin")')

# %% [markdown]
# The route only runs a quick SQL query. The line that held the loop is
# `AuditTrail.record`'s `send_message` (SMTP, 0.3 s at this mail relay), called by the
# **HTTP middleware** `audit_back_office`, which runs on the loop before every request
# and does its blocking work for `/admin` paths only. A middleware that blocks on every
# path would flag every route; this one hides behind one prefix.

# %%
lines = {name: line_of(text) for name, text in
         [("conditions", "urllib.request.urlopen("), ("record", "relay.send_message(")]}
for route, func in [(delivery, "conditions"), (admin, "record")]:
    number, code = lines[func]
    assert route.diagnosis == f"{SHOP.name}:{number} in {func}: {code}", route.diagnosis
    assert route.figures["loop_lag_ms"] >= 3 * LAG_LIMIT * 1000, route.figures  # several calls' worth
assert sum(p.done for p in sent_meanwhile) < len(sent_meanwhile) / 2  # the probe, hardly ever answered

# %% [markdown]
# ### A ceiling: `GET /books/{book_id}/stock`

# %%
stock = routes["GET /books/{book_id}/stock"]
display(report.figure(stock))
print(f"why: {stock.reason}")
f = stock.figures
print(f"alone {f['alone_ms']:.0f} ms, slowest {f['max_latency_ms']:.0f} ms, "
      f"about {f['parallelism']:.1f} requests served at a time; loop lag {f['loop_lag_ms']:.0f} ms")
show_lines("httpx.Limits(", "httpx.AsyncClient(")

# %% [markdown]
# Not a staircase this time: **waves**, four requests at a time, each wave one warehouse
# wait long, and the loop probe stayed flat (the loop was free throughout). The thread
# pool was not it either (THREADS: none of its 40 tokens in use). Something admits four
# at a time: the warehouse's `httpx.AsyncClient`, created in the lifespan with
# `max_connections=4`. The twenty-first customer of the sale waits five waves. (Had it
# been a `Semaphore(4)`, or a database pool of four connections, the picture would be the
# same; had it been one connection, or a lock, the verdict would be `serialised`.)

# %%
assert 3 <= f["parallelism"] <= 5, f  # the pool's four connections, measured from outside
assert f["max_latency_ms"] - f["alone_ms"] >= QUEUE_MIN * 1000 and f["loop_lag_ms"] < LAG_LIMIT * 1000, f

# %% [markdown]
# ## 4. Your turn: fix it, scan again
#
# The cell below copies the service to `mine/11-bookshop.py` (once: your edits are
# kept). Fix the three problems there, in any editor, and rerun the scan cell after it:
# the report should say `fine` on every route it called. Hints, if you want them:
#
# - a dependency that calls a sync client can simply be a plain `def`: FastAPI runs it
#   in the thread pool;
# - code that must stay `async def` (a middleware) can hand the sync call to a worker
#   thread: `await run_in_threadpool(...)` (`fastapi.concurrency`) uses the same 40
#   tokens as `def` endpoints; `asyncio.to_thread` uses the loop's default executor,
#   which plain uvicorn leaves at min(32, CPUs + 4) threads: 6 on a 2-core host, a pool
#   ceiling of its own (drill `predict-to-thread-default`). The scan would not show you
#   that one: like the grader, it serves the app with that executor pinned at 40;
# - a pool's size is a decision: as many connections as requests you want in flight.
#
# Headless (CI), the cell scans the reference answer, `_answers/11-bookshop.py`, instead.

# %%
MINE.mkdir(exist_ok=True)
mine = MINE / "11-bookshop.py"
if not mine.exists():
    shutil.copy(SHOP, mine)
    mine.chmod(0o644)  # the scan serves it as a user of its own
print(f"your copy: {mine.relative_to(Path.cwd())}")

# %%
fixed_path = ANSWER if REFERENCE else mine  # rerun after each edit
if REFERENCE:
    print(f"(headless run: scanning the reference answer, {ANSWER})")
after = scan_file(fixed_path)
print(report.table(after))
stock_after = {f"{r.method} {r.path}": r for r in after.routes}.get("GET /books/{book_id}/stock")
if stock_after is not None and stock_after.measured is not None:
    display(report.figure(stock_after))

# %% [markdown]
# The stock route, fixed: twenty bars side by side, each one warehouse wait long.

# %%
after_routes = {f"{r.method} {r.path}": r for r in after.routes}
print(Counter(r.verdict for r in after.routes))
if REFERENCE:  # executed headless (CI): the reference answer must be fine everywhere
    assert after.all_fine and sorted(after_routes) == sorted(routes), report.table(after)
    assert [r.verdict for r in after.routes if r.verdict != "fine"] == ["skipped"]  # POST /orders
    for name in EXPECTED:
        assert after_routes[name].figures["max_latency_ms"] < 2 * after_routes[name].figures["alone_ms"]

# %% [markdown]
# Stuck? Run `show_answer(ANSWER)` in a new cell to see one answer, each change marked
# `FIX`.
#
# ## 5. The command line
#
# Everything above is one command in a terminal, from the repository's folder; `--html`
# writes the same report as a page, with a timeline per route:
#
# ```console
# $ .venv/bin/python -m autograder scan course/apps/nb11_bookshop.py --html report.html
# ```
#
# Its exit status is 0 when every route it called is `fine` and 1 otherwise, so it can
# gate a CI job; `--json` prints one object with a `routes` list for scripts. Its help:

# %%
helped = subprocess.run([sys.executable, "-m", "autograder", "scan", "--help"],
                        cwd=Path.cwd().parent, capture_output=True, text=True, timeout=60)
print(helped.stdout)
assert helped.returncode == 0 and "--unsafe" in helped.stdout

# %% [markdown]
# What a scan does not see, so you know when to trust a `fine`:
#
# - **only what it calls.** `POST /orders` was skipped; `--unsafe` sends POST, PUT,
#   PATCH and DELETE with bodies built from the schema (on a copy of your data, never on
#   production's), and `--requests FILE` sends the requests you write (a real id, a
#   header, a body).
# - **only up to the concurrency it sends.** A ceiling shows only when more requests
#   arrive than it admits: with `-n 4` the warehouse's pool would have looked fine, and
#   the thread pool's 40 tokens need `-n 50`. Scan above the load you expect.
# - **one route at a time.** A lock or a pool that two routes share shows on each
#   route's own burst, not as one route slowing another.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Your own service:** `python -m autograder scan main:app` from its folder (uvicorn's
#   form) or `scan app.py`; `--env KEY=VALUE` or `--env-file .env` for the settings it
#   needs (a missing one is named), `--requests FILE` for the requests only you can
#   write, `--unsafe` for the routes that change data, `-n` above your production
#   concurrency, `--html report.html` for the pictures. Everything is in
#   [docs/scan.md](../docs/scan.md).
# - **Drills** on this notebook's three stalls: `python -m autograder drill predict-async-dep-blocks`,
#   `python -m autograder drill fix-blocking-dependency`,
#   `python -m autograder drill fix-blocking-middleware`,
#   `python -m autograder drill fix-tiny-executor`,
#   `python -m autograder drill predict-to-thread-default`
#   (or in [10 · drills](10_drills.ipynb)).
# - **The graded exercises**, listed by `python -m autograder list`, and
#   [the course map](00_setup.ipynb) to go back to any lesson.
