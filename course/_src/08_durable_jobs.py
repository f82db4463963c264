# %% [markdown]
# # 08 · Durable jobs: four queues, one crash
#
# Notebook 03 killed one process with one job in it and brought the job back from a
# small SQLite table. This one asks the production question: **when the box dies mid-work,
# what do the queues you would actually use lose, what do they do twice, and how long
# until the work is done?** Four ways to send an order's confirmation email after the
# `202`, each given the same crash:
#
# 1. `BackgroundTasks` (the graded exercise's starter);
# 2. **huey** with its SQLite storage, a maintained queue that needs no server;
# 3. the course's **job table with leases** (SQLite, stdlib `sqlite3`);
# 4. **arq on a real Redis server**, with a real arq worker process.
#
# Then what each library did at the kill, read in its installed source; what survives a
# crash of **Redis itself**; what "at least once" asks of your code (idempotency keys, the
# outbox pattern); `SIGTERM` against `SIGKILL`; when a fleet needs the broker; and your
# turn, graded by the `durable-jobs` exercise's own checks.
#
# Reading: about 25 minutes. Running: about 90 seconds (most of it waiting, on purpose,
# for a crashed job to come back).

# %%
# %matplotlib inline
import inspect
import signal

import arq
import arq.worker
import huey.storage
import redis
import uvicorn
from _lesson import LeakCheck
from _practice import REFERENCE, Tolerance, score
from _turns import TURNS
from arq.connections import RedisSettings
from IPython.display import Code, Markdown, display

from autograder import lab
from autograder.lab import crashdrill
from autograder.servers import brokers

leaks = LeakCheck()  # the last cell checks that nothing started here is left running

STARTER = "../exercises/durable-jobs/starter.py"  # BackgroundTasks
HUEY = "apps/nb08_huey.py"
TABLE = "apps/nb08_table.py"
ARQ = "apps/nb08_arq.py"
ORDERS = 12  # orders per drill, 30 ms apart: 4 sent, 4 sending, 4 waiting at the kill
WAIT = 14.0  # seconds we wait after each restart for the owed emails (why 14: section 3)

# %% [markdown]
# ## 1. The drill
#
# Every service has the same endpoint: `POST /orders {"order_id": ...}` answers `202` at
# once and the confirmation email (to `orders@example.com`, the order id in the subject,
# `Message-ID: <order-ID@shop.example.com>`) is a job. The course's SMTP server takes
# 0.3 s to accept each message and never accepts one whose sender died mid-way; it
# records every message it accepted, and when.
#
# The drill is the first phase of the `durable-jobs` grader's scenario, with 12 orders
# instead of 8, run by `autograder/lab/crashdrill.py` with the grader's own restart engine:
#
# - serve the file with a state directory `JOBS_DIR` that survives restarts;
# - send 12 orders, 30 ms apart;
# - once the first email was accepted and another is being sent, **`SIGKILL` the
#   service's whole process group** (a crash, an OOM kill, a pulled plug: no clean-up
#   code runs);
# - start **the same file again** (same `JOBS_DIR`, same mail server), and wait until
#   every accepted order has its email, or 14 s.
#
# Then count, from the mail server's record: emails **lost**, emails **sent twice**, and
# seconds from the kill until the last owed email arrived (**time to recover**).
#
# The four services, in short (the files are in `apps/` and `../exercises/`):
#
# | service | where the job waits | who runs it |
# | --- | --- | --- |
# | `BackgroundTasks` | the response object, in the process's memory | the same process, after the response |
# | huey `SqliteHuey` | `huey.db` in `JOBS_DIR` | four consumer threads in the web process |
# | job table | `orders.sqlite3` in `JOBS_DIR`: `queued` → `running` (owner, lease) → `done` | four asyncio workers in the web process |
# | arq | Redis, a separate server the crash does not touch | an arq worker process, a child of the web process |
#
# The arq service is the new one here:

# %%
Code(filename=ARQ, language="python")

# %% [markdown]
# **Where the arq worker runs, and why.** arq's worker is normally its own process
# (`arq module.WorkerSettings`), often on other machines. Here the web process starts it
# in its lifespan, as a child in the service's process group, so one `SIGKILL` to the group
# kills web process and worker together: the same "the whole box died" crash the three
# others get, with only Redis (on another box, in real life) surviving. A worker the
# notebook started on its own would sail through the web process's crash, which is the
# broker's first advantage (section 7), but not the same drill.
#
# **How the service reaches Redis.** The notebook starts a private `redis-server`
# (`autograder/servers/brokers.py`: its own data directory, default RDB snapshots, no TCP port)
# listening on a **Unix socket**. The course serves apps in a sandbox with a network
# namespace of its own (bubblewrap's `--unshare-net`): `127.0.0.1` inside it is not the
# host's loopback, so a Redis on a loopback port is out of reach. A socket file crosses
# network namespaces: the run gets the socket's folder as a read-only folder it can see,
# and connecting works (the drill below is the proof). Without `redis-server`, the cell
# says how to install it and the three other drills still run.

# %%
redis_ok = brokers.available()  # False (with how to install it) where redis-server is missing
print("redis-server:", brokers.executable() or "not installed")

# %% [markdown]
# **Predict first.** huey writes each task to SQLite before the `202`, like the job
# table. Of the 12 orders, how many emails does huey lose? And how many seconds after the
# kill does arq deliver the last of them? Replace each `None` with your figure.

# %%
predicted_huey_lost = None  # your figure: emails huey loses
predicted_arq_recovery = None  # your figure: seconds from the kill to arq's last owed email

# %% [markdown]
# ## 2. The same crash, four times

# %%
drills = [
    crashdrill.crash_drill("BackgroundTasks", STARTER, orders=ORDERS, wait_at_most=WAIT),
    crashdrill.crash_drill("huey (SQLite)", HUEY, orders=ORDERS, wait_at_most=WAIT),
    crashdrill.crash_drill("job table", TABLE, orders=ORDERS, wait_at_most=WAIT),
]
if redis_ok:
    with brokers.redis_server() as broker:  # stopped and removed at the end of the block
        print("redis-server started as:", " ".join(broker.command()[1:]))
        drills.append(
            crashdrill.crash_drill(
                "arq + Redis", ARQ, orders=ORDERS, wait_at_most=WAIT,
                env={"REDIS_URL": broker.url}, reachable=[broker.folder],
            )
        )
by_name = {d.name: d for d in drills}
for d in drills:
    print(d)
display(Markdown(crashdrill.table(drills)))
display(crashdrill.summary_figure(drills))
score("emails huey lost", predicted_huey_lost, len(by_name["huey (SQLite)"].lost),
      tolerance=Tolerance(absolute=1), unit="emails")
if redis_ok:
    score("arq's time to recover", predicted_arq_recovery, by_name["arq + Redis"].recovered_s,
          tolerance=Tolerance(absolute=1.0, relative=0.15), unit="s")

# %%
display(crashdrill.timeline_figure(drills))

# %%
background, huey_drill, table = drills[:3]


def after_restart(d: crashdrill.CrashDrill) -> int:
    """Emails the mail server accepted once the restarted service was serving."""
    return sum(1 for ms in d.emails.values() for m in ms if m["accepted"] > d.ready_at)


for d in drills:
    assert len(d.accepted) == ORDERS and d.ready_at is not None, d  # all accepted, all restarted
    assert d.sending_at_kill, d  # the kill came mid-send
# BackgroundTasks: the emails not sent at the kill are gone; nothing came after the restart
assert background.lost and after_restart(background) == 0 and not background.twice
# huey: the tasks still queued came back after the restart; those its 4 threads held did not
assert 1 <= len(huey_drill.lost) <= 4 and after_restart(huey_drill) > 0 and not huey_drill.twice
# the job table: nothing lost, back within seconds of the restart
assert not table.lost and table.recovered_s is not None and table.recovered_s < 4
if redis_ok:
    arq_drill = by_name["arq + Redis"]
    assert not arq_drill.lost  # nothing lost either...
    assert 10 < arq_drill.recovered_s < WAIT  # ...but the interrupted jobs waited ~12 s
# whatever was sent twice carried one Message-ID, holding the order id
for d in drills:
    for order in d.twice:
        assert len({m["message_id"] for m in d.emails[order]}) == 1, d.emails[order]
    assert all(order in m["message_id"] for order, ms in d.emails.items() for m in ms)

# %% [markdown]
# Read the timelines from left to right: the orders' rows start at their `202`, a dot is
# the mail server accepting the email, the red line is the `SIGKILL`, the green dashes
# the restarted service serving again. `BackgroundTasks` and huey end in red crosses:
# those emails were promised with a `202` and never sent. The job table and arq lost
# nothing, but at very different speeds.
#
# ## 3. What each one did at the kill, in its source
#
# **`BackgroundTasks`** keeps the task list on the response object (notebook 03): it
# exists only in the memory of the process, and a `SIGKILL` frees that memory. Every
# email not yet accepted, sending or waiting, is gone, and the restarted process never
# heard of them.
#
# **huey** writes the task to `huey.db` when it is enqueued, so tasks still *waiting*
# survive and ran after the restart. But its SQLite storage's `dequeue` deletes the row in
# the same transaction that reads it, before a worker runs the task:

# %%
dequeue = inspect.getsource(huey.storage.SqliteStorage.dequeue)
print(dequeue)
assert "delete from task" in dequeue

# %% [markdown]
# The tasks the four worker threads had taken existed only in their memory from then on:
# those are the lost ones. (`retries=3` does not help: a retry is re-enqueued by the worker
# when the task *raises*, and a killed process raises nothing.) With this
# storage, use huey for work you can afford to lose, or have the task keep its own "done"
# record and re-enqueue what has none at start-up: the job table again.
#
# **The job table** marks a job `running` with an owner and a lease when a worker claims
# it, and `done` only after the mail server accepted the email. At start-up the service
# puts back every job an earlier process owned (one process per table: those owners are
# dead), so the interrupted sends ran again within a second of the restart. With several
# processes on one table, nobody may assume that; a claim whose lease ran out (30 s here)
# may be taken by any worker.
#
# **arq** does the same with Redis, and waits for the lease. Its worker claims a job by
# setting an *in-progress key* with an expiry; the job stays in the queue (a sorted set)
# until `finish_job` removes it, once it has succeeded (or failed for good). A new worker skips every job whose
# in-progress key still exists, whoever set it, so a job whose worker died waits for the
# key to expire. The expiry, from the installed `arq/worker.py`:

# %%
init = inspect.getsource(arq.worker.Worker.__init__)
start_jobs = inspect.getsource(arq.worker.Worker.start_jobs)
print(next(line.strip() for line in init.splitlines() if "in_progress_timeout_s =" in line))
print(next(line.strip() for line in start_jobs.splitlines() if "psetex(in_progress_key" in line))
print(next(line.strip() for line in start_jobs.splitlines() if "ongoing_exists or" in line))
defaults = inspect.signature(arq.worker.Worker).parameters
print({k: defaults[k].default for k in ("job_timeout", "max_tries", "keep_result", "expires_extra_ms")})
assert "self.in_progress_timeout_s = (max_timeout or 0) + 10" in init
assert defaults["job_timeout"].default == 300 and defaults["max_tries"].default == 5
if redis_ok:
    print("--- the arq worker's log, both lives ---")
    print("\n".join(line for line in arq_drill.output.splitlines() if line.startswith("worker:")))
    assert "try=2" in arq_drill.output  # the interrupted jobs ran again, as second tries

# %% [markdown]
# So, exactly, for a job running when its worker is `SIGKILL`ed:
#
# - its in-progress key lives **`job_timeout` + 10 s** from the claim (the longest timeout
#   of the worker's functions; here `timeout=2`, so 12 s, which is why we wait 14 s);
#   until then no worker touches it. With arq's **default `job_timeout` of 300 s, a
#   crashed job waits 310 s**: set the timeout to what the job really needs;
# - then the next poll runs it again, as `try=2`; each run counts a try, and after
#   `max_tries` (default 5) arq gives up on it ("max retries exceeded"): a job that
#   crashes its worker every time cannot loop for ever;
# - jobs that were only waiting in the queue have no in-progress key: the restarted worker
#   ran them at once (the rows that finish right after the green dashes);
# - the job's data key expires `expires_extra_ms` (a day) after its planned start: a job
#   no worker starts within a day is dropped; its result is kept `keep_result` (an hour),
#   and while the job or its result exists, `enqueue_job(..., _job_id=...)` with the same
#   id returns `None` instead of queueing it again (section 5).
#
# ## 4. And when Redis dies?
#
# The broker holds the queue, so its own crash matters. By default Redis keeps data in
# memory and writes an **RDB snapshot** now and then (`save 3600 1 300 100 60 10000`:
# after an hour if one key changed, five minutes if 100 did, a minute if 10 000 did) and
# when it shuts down cleanly. With `--appendonly yes` it also appends every write to a
# log it replays at start-up (`appendfsync everysec`: written to the kernel at once,
# forced to disk every second). Three crashes of Redis with 12 jobs queued by arq and no
# worker running:

# %%
async def enqueue(url: str, ids: list[str]) -> list[bool]:
    pool = await arq.create_pool(RedisSettings.from_dsn(url))
    try:
        return [await pool.enqueue_job("send_confirmation", i, _job_id=f"order-{i}") is not None
                for i in ids]
    finally:
        await pool.aclose()


def queued(server: brokers.RedisServer) -> int:
    with redis.Redis(unix_socket_path=str(server.socket)) as r:
        return r.zcard("arq:queue")


survived = {}
if redis_ok:
    for appendonly, sig in ((False, signal.SIGKILL), (False, signal.SIGTERM), (True, signal.SIGKILL)):
        with brokers.redis_server(appendonly=appendonly) as server:
            ids = [f"r{n}" for n in range(ORDERS)]
            first = lab.run(enqueue(server.url, ids))
            again = lab.run(enqueue(server.url, ids[:1]))  # the same order once more
            before = queued(server)
            server.kill(sig)
            server.start()  # same data directory
            case = f"appendonly {'yes' if appendonly else 'no '}, Redis {signal.Signals(sig).name}"
            survived[case] = queued(server)
            print(f"{case}: {before} jobs queued before, {survived[case]} after the restart; "
                  f"files: {server.files()}; enqueued again with the same _job_id: {again}")
    assert first == [True] * ORDERS and again == [False]  # the repeat was refused
    assert list(survived.values()) == [0, ORDERS, ORDERS]

# %% [markdown]
# A `SIGKILL` of a Redis without the append-only file loses **every queued job** since
# the last snapshot: the same loss as `BackgroundTasks`, one process further away. A clean
# stop writes a snapshot, and the append-only file survives the kill of the process
# (what `everysec` can lose is the last second of writes in a crash of the *machine*).
# A broker holding jobs you promised needs `appendonly yes` (and, beyond one machine,
# replication); Redis's `maxmemory-policy` must stay `noeviction`, or under memory
# pressure Redis may evict the queue's keys.
#
# ## 5. "At least once" is a promise about your code
#
# None of the durable three can tell "crashed before the send" from "crashed after the
# send, before the mark": both leave the job unfinished, and it runs again. The drills
# here rarely hit that gap (the kill comes mid-send, and the course's mail server never
# accepts a message whose sender died), but a busy service will. So each job must be
# safe to run twice, and the places where an order can be duplicated need a key:
#
# - **The email:** `Message-ID: <order-ID@shop.example.com>` is derived from the order
#   id, so a resend carries the same id and a receiver (or your mail provider's
#   idempotency key) drops the copy. A random `make_msgid()` would make each resend look
#   new. The `durable-jobs` grader checks exactly this.
# - **The enqueue:** a client that retries `POST /orders` must not queue a second job:
#   `INSERT OR IGNORE` on the order id (the table), `_job_id=f"order-{id}"` (arq refused
#   the repeat above).
# - **The outbox pattern**, for when the order itself is written to a database: write
#   the order row *and* its job row **in the same transaction**, and let the worker read
#   jobs from that table (or relay them to a broker). Either both exist or neither does:
#   no order without its email, no email for an order that was rolled back. Enqueueing
#   to Redis *after* committing the order leaves a crash window between the two; before
#   committing, a job for an order that may never exist.
#
# ```python
# with db:  # one transaction
#     db.execute("INSERT INTO orders (id, total) VALUES (?, ?)", (order_id, total))
#     db.execute("INSERT INTO outbox (order_id, kind, state) VALUES (?, 'email', 'queued')", (order_id,))
# ```
#
# ## 6. `SIGTERM` is not `SIGKILL`
#
# A deploy, a scale-down or `docker stop` sends `SIGTERM` first. uvicorn then stops
# accepting connections, lets the requests in flight (and their background tasks) finish
# for at most `timeout_graceful_shutdown` seconds (no limit by default; the course's
# harness sets 1 s), and only then runs the lifespan's shutdown, in the installed source:

# %%
shutdown = inspect.getsource(uvicorn.Server.shutdown)
print(shutdown)
assert shutdown.index("_wait_tasks_to_complete") < shutdown.index("self.lifespan.shutdown()")

# %% [markdown]
# The same drill with `SIGTERM` instead of `SIGKILL`, on `BackgroundTasks` and on arq
# (whose lifespan sends the worker `SIGTERM`; with `job_completion_wait` it stops taking
# jobs and finishes those in hand, where arq's default would cancel them and run them
# again later):

# %%
gentle = [crashdrill.crash_drill("BackgroundTasks", STARTER, orders=ORDERS, wait_at_most=WAIT,
                                 signum=signal.SIGTERM)]
if redis_ok:
    with brokers.redis_server() as broker:
        gentle.append(
            crashdrill.crash_drill(
                "arq + Redis", ARQ, orders=ORDERS, wait_at_most=WAIT, signum=signal.SIGTERM,
                env={"REDIS_URL": broker.url}, reachable=[broker.folder],
            )
        )
for d in gentle:
    print(d, f"(exited {d.exited_s} s after SIGTERM)")
display(Markdown(crashdrill.table(gentle)))

# %%
for d in gentle:
    assert not d.lost and not d.twice and d.exited_s is not None, d
assert gentle[0].recovered_s < 2  # uvicorn waited for the background tasks before exiting
if redis_ok:
    assert gentle[1].recovered_s < 5  # no in-progress key left behind: no 12 s wait

# %% [markdown]
# A graceful stop loses nothing even with `BackgroundTasks`, as long as the tasks finish
# inside the grace period and the process really receives the signal (a shell script as
# PID 1 that does not forward it turns every deploy into a kill after the orchestrator's
# timeout, 30 s in Kubernetes). And arq recovered at once: every job it had taken was
# finished and its in-progress key deleted. The 12 s wait is the price of a *crash*, and
# only for the jobs that were running.
#
# ## 7. When a fleet needs the broker
#
# The SQLite job table lost nothing and recovered fastest, so why run Redis?
#
# - **One machine's file.** SQLite is a file with locks. Several processes *on one
#   machine* can share the table: `BEGIN IMMEDIATE` makes claims exclusive and the lease
#   lets a live worker take over a dead one's job (then the start-up reset must go: it
#   would steal live workers' jobs). Several *machines* cannot: SQLite over a network file
#   system is not safe (its own documentation warns about locking there), and each
#   machine's table is its own queue. A web tier of three machines needs one queue all
#   of them reach: a broker (Redis, RabbitMQ) or your
#   database (PostgreSQL's `SELECT ... FOR UPDATE SKIP LOCKED`).
# - **Workers apart from the web.** With a broker, workers are their own deployment:
#   scaled on queue length, restarted without touching the web tier, and a web process's
#   crash loses nothing at all, since it holds no jobs.
# - **What it costs.** A server to run, persist (`appendonly yes`), monitor and keep
#   highly available, and the library's recovery rules to know: arq's in-progress expiry
#   (section 3); Celery acknowledges a task *before* running it unless `acks_late=True`.
#
# For one service on one machine, a job table in the database you already have is a
# durable queue. For a fleet, a broker.
#
# ## 8. Your turn: a job table that forgets the jobs it is sending
#
# `apps/nb08_confirm_starter.py` keeps its jobs in SQLite in `JOBS_DIR` and runs four
# workers in its lifespan, yet a crash mid-send loses emails. It is graded by the
# `durable-jobs` exercise's own scenario: orders, a `SIGKILL` while emails are being
# sent, a restart, then a `SIGTERM` while sending. Every accepted order must get its
# email (at least once, with the same `Message-ID`), answers must stay fast and the loop
# free. The cell below copies it to `mine/08-confirm.py` (once: your edits are kept); fix
# it there, save, and run the check.

# %%
confirm = TURNS["08-confirm"]
display(Code(filename=confirm.start(), language="python"))

# %%
verdict = confirm.check()  # grades mine/08-confirm.py with the grader's checks; rerun after each edit

# %%
if REFERENCE:  # executed headless (CI): the reference answer must pass
    assert verdict.passed, verdict.render()

# %% [markdown]
# Stuck? Run `confirm.show_answer()` in a new cell to see one answer.

# %%
leaks.finish()

# %% [markdown]
# ## The way on
#
# - **Graded exercise: `durable-jobs`.** Start from the `BackgroundTasks` service of
#   section 2 and make its emails survive the grader's crash and graceful stop:
#   [README](../exercises/durable-jobs/README.md),
#   [starter.py](../exercises/durable-jobs/starter.py). Fix a copy, then from the
#   repository's folder `python -m autograder grade durable-jobs my_fix.py`. In a class:
#   the nbgrader notebook
#   [durable-jobs.ipynb](../exercises/source/durable-jobs/durable-jobs.ipynb).
# - **Drills** on crashes and deploys: predict what a crash keeps,
#   `python -m autograder drill predict-crash-bgtasks` and `predict-crash-huey`; what a
#   deploy keeps, `predict-sigterm-background`; fix a job table that loses jobs against the
#   clock, `python -m autograder drill fix-lost-on-crash`; and the interview questions
#   `q-graceful-shutdown` and `q-create-task-vanishes` (or in [10 · drills](10_drills.ipynb)).
# - **Next:** [09 · streams](09_streams.ipynb): model tokens relayed over Server-Sent Events,
#   streams that outlive the request.
